#include "gpu/roots.h"

#include <cstdlib>

#include "gpu/roots_data.h"

namespace cvm::gpu {
namespace {

Certificate Parse(const char* pem) {
  auto c = Certificate::FromPem(pem);
  // The PEM is compiled in; failing to parse it is a build defect, not a runtime condition.
  if (!c.ok()) std::abort();
  return std::move(c).value();
}

}  // namespace

const Certificate& DeviceIdentityRoot() {
  static const Certificate root = Parse(roots_data::kDeviceIdentityRoot);
  return root;
}

const Certificate& RimRoot() {
  static const Certificate root = Parse(roots_data::kRimRoot);
  return root;
}

}  // namespace cvm::gpu
