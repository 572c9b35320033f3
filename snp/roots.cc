#include "snp/roots.h"

#include <cstdlib>

#include "snp/roots_data.h"

namespace cvm::snp {
namespace {

Certificate MustParse(const char* pem) {
  auto c = Certificate::FromPem(pem);
  // The PEM is compiled in and covered by tests; failing here is a build defect, not input.
  if (!c.ok()) std::abort();
  return *c;
}

AmdChain Make(const char* ark, const char* ask, const char* asvk) {
  return AmdChain{MustParse(ark), MustParse(ask), MustParse(asvk)};
}

}  // namespace

const AmdChain& BuiltinChain(Product product) {
  // Function-local statics: parsed once, thread-safe initialisation.
  static const AmdChain milan =
      Make(roots_data::kArkMilan, roots_data::kAskMilan, roots_data::kAsvkMilan);
  static const AmdChain genoa =
      Make(roots_data::kArkGenoa, roots_data::kAskGenoa, roots_data::kAsvkGenoa);
  static const AmdChain turin =
      Make(roots_data::kArkTurin, roots_data::kAskTurin, roots_data::kAsvkTurin);
  switch (product) {
    case Product::kMilan:
      return milan;
    case Product::kGenoa:
      return genoa;
    case Product::kTurin:
      return turin;
    case Product::kUnknown:
      break;
  }
  std::abort();  // REQUIRES violated
}

std::vector<Certificate> BuiltinArks() {
  return {BuiltinChain(Product::kMilan).ark, BuiltinChain(Product::kGenoa).ark,
          BuiltinChain(Product::kTurin).ark};
}

}  // namespace cvm::snp
