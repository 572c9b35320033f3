// The exact text of a member of a JSON object, as it appears in the document.
//
// Intel signs the TCB info and QE identity as the bytes of the "tcbInfo" / "enclaveIdentity"
// value in the PCS response. Re-serialising a parsed value could change those bytes (key order,
// number or escape spelling), so signature checks use the original slice this returns.
#pragma once

#include <string_view>

#include "common/status.h"

namespace cvm::tdx {

// Returns the slice of `json` (an object) holding the value of its top-level member `key`, which
// must itself be an object or array. kInvalidInput when `json` is not valid JSON, not an object,
// or has no such member; kInvalidInput when the member is not an object or array.
Result<std::string_view> RawMemberText(std::string_view json, std::string_view key);

}  // namespace cvm::tdx
