// Checks of a LUKS2 header before a key is handed over for it.
//
// The header (its binary part with the UUID, and its JSON metadata with keyslots, segments and
// tokens) is written by whoever controls the disk: the host. A host that swaps it can make the
// guest "unlock" a volume that does not encrypt at all (segment cipher `cipher_null`, or a
// `linear` segment), or replay our token onto another volume of its choosing. So before the agent
// is asked for a key:
//   1. the metadata must be a JSON object with "keyslots" and "segments" objects;
//   2. every keyslot the token names must exist, be of type "luks2", and its area cipher must
//      not be a null cipher and must be in the allow list (when one is given);
//   3. there must be at least one segment; every segment must be of type "crypt" and its cipher
//      must pass the same test;
//   4. the header's UUID must equal the one the token recorded at bind time.
// Every violation is reported (kRejected, one message listing all of them, each naming the
// keyslot or segment and the cipher); malformed metadata is kInvalidInput.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "luks/token.h"

namespace cvm::luks {

struct HeaderPolicy {
  // Ciphers (libcryptsetup's "cipher-mode" form, e.g. "aes-xts-plain64") allowed in the named
  // keyslots and in every segment. Empty: any cipher except a null one. A null cipher
  // (cipher_null in any form) is refused whatever the list says.
  std::vector<std::string> allowed_ciphers;
};

// What the checks saw, for the request to the agent and for `cvmctl luks show`.
struct HeaderFacts {
  std::string uuid;                  // canonical, lower case
  std::vector<std::string> ciphers;  // every keyslot (named by the token) and segment cipher,
                                     // sorted, unique
};

// Whether `cipher` is a null cipher ("cipher_null", "cipher_null-ecb", "capi:ecb(cipher_null)").
bool IsNullCipher(std::string_view cipher);

// Runs checks 1-4 above. `metadata_json` is the header's JSON metadata (crypt_dump_json);
// `header_uuid` the binary header's UUID (crypt_get_uuid).
Result<HeaderFacts> CheckHeader(std::string_view metadata_json, std::string_view header_uuid,
                                const Token& token, const HeaderPolicy& policy);

// The same checks without a token: every keyslot is checked (used before binding, when there is
// no token yet, and with `keyslots` naming the keyslots that will be bound).
Result<HeaderFacts> CheckHeaderKeyslots(std::string_view metadata_json,
                                        std::string_view header_uuid,
                                        const std::vector<int>& keyslots,
                                        const HeaderPolicy& policy);

}  // namespace cvm::luks
