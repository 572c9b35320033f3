// Fuzzes the OVMF footer-table and SEV-metadata parser and the launch digest over what it found.
// The input is used as is (mostly refused: not whole pages) and padded in front to whole pages
// (the footer table is read from the end), then measured when its sections are small enough to
// keep an iteration fast.
#include <cstdint>

#include "snp/measure.h"
#include "snp/ovmf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cvm::snp;  // NOLINT(google-build-using-namespace)
  if (size > (1 << 20)) return 0;
  (void)FirmwareImage::Parse(cvm::Bytes(data, data + size));
  size_t padded = (size + kPageSize - 1) / kPageSize * kPageSize;
  if (padded == 0) padded = kPageSize;
  cvm::Bytes image(padded - size, 0);
  image.insert(image.end(), data, data + size);
  auto parsed = FirmwareImage::Parse(std::move(image));
  if (!parsed.ok()) return 0;
  (void)parsed->SevEsResetEip();
  (void)parsed->SevHashTableGpa();
  (void)parsed->SvsmEntryPoint();
  uint64_t pages = 0;
  for (const auto& s : parsed->sections()) pages += s.size / kPageSize;
  if (pages > 256) return 0;
  SnpLaunch launch;
  launch.ovmf = &*parsed;
  launch.vcpus = 2;
  launch.vcpu_sig = 0x800f12;
  (void)SnpLaunchDigest(launch);
  launch.kernel = KernelHashes{};
  (void)SnpLaunchDigest(launch);
  (void)SevEsLaunchDigest(*parsed, launch.kernel, 2, launch.vcpu_sig);
  return 0;
}
