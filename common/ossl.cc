#include "common/ossl.h"

#include <openssl/err.h>

#include <string>

namespace cvm::ossl {

Status Error(std::string_view what, Code code) {
  std::string message(what);
  unsigned long err = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type.
  if (err != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    message += ": ";
    message += buf;
  }
  ERR_clear_error();
  return Status(code, std::move(message));
}

void ClearErrors() { ERR_clear_error(); }

}  // namespace cvm::ossl
