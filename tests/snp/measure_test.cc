// Launch measurement (SEV, SEV-ES, SEV-SNP), OVMF footer table and metadata, VMSA shapes.
//
// The vectors are read from the folder named by $CVM_MEASURE_VECTORS, else from the shared
// vectors next to the checkout (../shared/vectors/measure), else from the copy in
// tests/data/vectors/measure: every case in its cases.json must reproduce bit for bit.
#include "snp/measure.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "snp/ovmf.h"
#include "snp/vmsa.h"
#include "tests/snp/measure_vectors.h"
#include "tests/testing/testing.h"

namespace cvm::snp {
namespace {

using nlohmann::json;
using testing::MeasureVectorDir;

std::optional<uint32_t> CaseSig(const json& c) {
  if (c.contains("vcpu_sig") && c["vcpu_sig"].is_string()) {
    return static_cast<uint32_t>(std::stoul(c["vcpu_sig"].get<std::string>(), nullptr, 16));
  }
  if (c.contains("vcpu_type") && c["vcpu_type"].is_string()) {
    return *VcpuTypeSignature(c["vcpu_type"].get<std::string>());
  }
  return std::nullopt;
}

// Computes a launch_digest or error case through the library.
Result<Bytes> Compute(const json& c) {
  const std::string dir = MeasureVectorDir();
  auto str = [&](const char* k) -> std::optional<std::string> {
    if (c.contains(k) && c[k].is_string()) return c[k].get<std::string>();
    return std::nullopt;
  };
  CVM_ASSIGN_OR_RETURN(FirmwareImage ovmf, LoadFirmware(dir + "/" + *str("ovmf")));
  std::optional<KernelHashes> kernel;
  if (auto k = str("kernel")) {
    auto initrd = str("initrd");
    CVM_ASSIGN_OR_RETURN(
        kernel, HashKernelFiles(dir + "/" + *k, initrd ? dir + "/" + *initrd : "", str("append")));
  }
  const std::string mode = *str("mode");
  const uint32_t vcpus = c.value("vcpus", 1u);
  Vmm vmm = *ParseVmm(str("vmm_type").value_or("qemu"));
  if (mode == "sev") return SevLaunchDigest(ovmf, kernel);
  if (mode == "seves") return SevEsLaunchDigest(ovmf, kernel, vcpus, CaseSig(c), vmm);
  SnpLaunch launch;
  launch.ovmf = &ovmf;
  launch.vcpus = vcpus;
  launch.vcpu_sig = CaseSig(c);
  launch.vmm = vmm;
  launch.kernel = kernel;
  if (auto gf = str("guest_features")) launch.guest_features = std::stoull(*gf, nullptr, 16);
  if (auto h = str("snp_ovmf_hash")) {
    Bytes b = *HexDecodeFixed(*h, 48);
    std::array<uint8_t, 48> seed{};
    std::copy(b.begin(), b.end(), seed.begin());
    launch.ovmf_hash = seed;
  }
  std::optional<FirmwareImage> svsm;
  if (auto s = str("svsm")) {
    launch.vars_size = c.value("vars_size", uint64_t{0});
    CVM_ASSIGN_OR_RETURN(svsm, LoadFirmware(dir + "/" + *s, ovmf.gpa() - launch.vars_size, "svsm"));
    launch.svsm = &*svsm;
  }
  return SnpLaunchDigest(launch);
}

TEST_CASE("Every launch-digest case in cases.json reproduces bit for bit", "[measure]") {
  size_t n = 0;
  for (const json& c : testing::MeasureCases()) {
    const std::string kind = c["kind"];
    if (kind != "launch_digest" && kind != "snp_ovmf_hash") continue;
    INFO("case " << c["name"].get<std::string>());
    Result<Bytes> digest = Bytes{};
    if (kind == "snp_ovmf_hash") {
      auto ovmf = LoadFirmware(MeasureVectorDir() + "/" + c["ovmf"].get<std::string>());
      REQUIRE(ovmf.ok());
      digest = SnpOvmfHash(*ovmf);
    } else {
      digest = Compute(c);
    }
    REQUIRE(digest.ok());
    CHECK(HexEncode(*digest) == c["expected"].get<std::string>());
    ++n;
  }
  CHECK(n >= 1);
}

TEST_CASE("Every error case in cases.json is refused with its message", "[measure]") {
  size_t n = 0;
  for (const json& c : testing::MeasureCases()) {
    if (c["kind"] != "error") continue;
    INFO("case " << c["name"].get<std::string>());
    auto digest = Compute(c);
    REQUIRE(!digest.ok());
    CHECK(digest.status().code() == Code::kInvalidInput);
    CHECK_THAT(digest.status().message(), Catch::Contains(c["expected_error"].get<std::string>()));
    ++n;
  }
  CHECK(n >= 1);
}

TEST_CASE("cvmctl measure prints the digest of every SNP, SEV-ES and SEV case", "[measure]") {
  const std::string dir = MeasureVectorDir();
  for (const json& c : testing::MeasureCases()) {
    if (c["kind"] != "launch_digest" && c["kind"] != "error") continue;
    INFO("case " << c["name"].get<std::string>());
    const std::string mode = c["mode"];
    std::vector<std::string> args{"measure", mode == "seves" ? "sev-es" : mode, "--ovmf",
                                  dir + "/" + c["ovmf"].get<std::string>()};
    if (mode != "sev") {
      args.insert(args.end(), {"--vcpus", std::to_string(c["vcpus"].get<int>())});
      if (c["vcpu_sig"].is_string()) args.insert(args.end(), {"--vcpu-sig", c["vcpu_sig"]});
      if (c.contains("vmm_type") && c["vmm_type"].is_string()) {
        args.insert(args.end(), {"--vmm", c["vmm_type"]});
      }
    }
    if (mode == "snp") args.insert(args.end(), {"--guest-features", c["guest_features"]});
    auto file = [&](const char* k, const char* opt) {
      if (c.contains(k) && c[k].is_string())
        args.insert(args.end(), {opt, dir + "/" + c[k].get<std::string>()});
    };
    file("kernel", "--kernel");
    file("initrd", "--initrd");
    file("svsm", "--svsm");
    if (c.contains("append") && c["append"].is_string())
      args.insert(args.end(), {"--append", c["append"]});
    if (c.contains("snp_ovmf_hash") && c["snp_ovmf_hash"].is_string()) {
      args.insert(args.end(), {"--ovmf-hash", c["snp_ovmf_hash"]});
    }
    if (c.contains("vars_size") && c["vars_size"].is_number()) {
      args.insert(args.end(), {"--vars-size", std::to_string(c["vars_size"].get<uint64_t>())});
    }
    auto r = testing::Cvmctl(args);
    if (c["kind"] == "error") {
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.err, Catch::Contains(c["expected_error"].get<std::string>()));
    } else {
      CHECK(r.exit_code == 0);
      CHECK(r.out == c["expected"].get<std::string>() + "\n");
    }
  }
}

TEST_CASE("cvmctl measure snp-ovmf-hash prints the firmware-only digest", "[measure]") {
  for (const json& c : testing::MeasureCases()) {
    if (c["kind"] != "snp_ovmf_hash") continue;
    auto r = testing::Cvmctl({"measure", "snp-ovmf-hash", "--ovmf",
                              MeasureVectorDir() + "/" + c["ovmf"].get<std::string>(), "--json"});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["ovmf_hash"] == c["expected"]);
  }
}

TEST_CASE("cvmctl measure snp --json prints the inputs with the digest", "[measure]") {
  const std::string dir = MeasureVectorDir();
  auto r = testing::Cvmctl({"measure", "snp", "--json", "--ovmf", dir + "/ovmf_AmdSev_suffix.bin",
                            "--vcpus", "2", "--vcpu-type", "EPYC-Milan", "--kernel",
                            dir + "/empty.bin", "--append", "console=ttyS0"});
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["vcpus"] == 2);
  CHECK(j["vcpu_sig"] == "0xa00f11");
  CHECK(j["vmm"] == "qemu");
  CHECK(j["guest_features"] == "0x1");
  CHECK(j["initrd"].is_null());
  CHECK(j["kernel_sha256"] == HexEncode(Sha256({})));
  CHECK(j["measurement"].get<std::string>().size() == 96);
}

TEST_CASE("cvmctl measure refuses options that do not apply or are missing (exit 2)", "[measure]") {
  const std::string ovmf = MeasureVectorDir() + "/ovmf_AmdSev_suffix.bin";
  CHECK(testing::Cvmctl({"measure", "snp", "--ovmf", ovmf, "--vcpus", "1"}).exit_code == 2);
  CHECK(testing::Cvmctl({"measure", "snp", "--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC-v4",
                         "--vcpu-sig", "0x800f12"})
            .exit_code == 2);
  CHECK(testing::Cvmctl({"measure", "snp", "--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "Pentium",
                         "--append", "x"})
            .exit_code == 2);
  CHECK(testing::Cvmctl({"measure", "snp", "--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC",
                         "--append", "x"})
            .exit_code == 2);
  CHECK(testing::Cvmctl({"measure", "snp", "--ovmf", ovmf, "--vcpus", "0", "--vcpu-type", "EPYC"})
            .exit_code == 2);
  CHECK(testing::Cvmctl({"measure", "snp", "--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC",
                         "--vars-size", "4096"})
            .exit_code == 2);
  CHECK(testing::Cvmctl({"measure", "sev", "--ovmf", ovmf, "--vcpus", "1"}).exit_code == 2);
  auto bad = testing::Cvmctl({"measure", "snp", "--ovmf", ovmf, "--vcpus", "1", "--vcpu-type",
                              "EPYC", "--guest-features", "0x20"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("SNPActive"));
}

TEST_CASE("A firmware of several pages is measured page by page up to 4 GiB", "[measure]") {
  Bytes suffix = *ReadFile(MeasureVectorDir() + "/ovmf_AmdSev_suffix.bin");
  Bytes two(kPageSize, 0x5a);
  two.insert(two.end(), suffix.begin(), suffix.end());
  auto image = FirmwareImage::Parse(two);
  REQUIRE(image.ok());
  CHECK(image->gpa() == kFourGiB - 2 * kPageSize);
  // The metadata is found from the end of the image whatever its length.
  auto one = FirmwareImage::Parse(suffix);
  REQUIRE(one.ok());
  CHECK(image->sections().size() == one->sections().size());
  CHECK(*image->SevEsResetEip() == *one->SevEsResetEip());
  LaunchDigest ld;
  ld.AddNormalPages(kFourGiB - 2 * kPageSize, ByteSpan(two).first(kPageSize));
  ld.AddNormalPages(kFourGiB - kPageSize, suffix);
  CHECK(SnpOvmfHash(*image) == Bytes(ld.digest().begin(), ld.digest().end()));
}

TEST_CASE("The PAGE_INFO chain hashes the 0x70-byte structure of the SNP ABI", "[measure]") {
  LaunchDigest ld;
  Bytes contents(48, 0xab);
  ld.Update(PageType::kNormal, 0xfffff000, contents);
  Bytes info(0x70, 0);
  std::copy(contents.begin(), contents.end(), info.begin() + 0x30);
  info[0x60] = 0x70;
  info[0x62] = 1;
  StoreLe64(info, 0x68, 0xfffff000);
  CHECK(Bytes(ld.digest().begin(), ld.digest().end()) == Sha384(info));
}

TEST_CASE("The OVMF footer table and SEV metadata of the AmdSev build are parsed", "[measure]") {
  auto image = LoadFirmware(MeasureVectorDir() + "/ovmf_AmdSev_suffix.bin");
  REQUIRE(image.ok());
  CHECK(image->HasSection(MetadataSectionType::kSnpKernelHashes));
  CHECK(image->HasSection(MetadataSectionType::kSnpSecrets));
  CHECK(image->HasSection(MetadataSectionType::kCpuid));
  CHECK(image->SevHashTableGpa().has_value());
  CHECK(*image->SevEsResetEip() != 0);
  auto x64 = LoadFirmware(MeasureVectorDir() + "/ovmf_OvmfX64_suffix.bin");
  REQUIRE(x64.ok());
  CHECK(!x64->HasSection(MetadataSectionType::kSnpKernelHashes));
  CHECK(!x64->SevHashTableGpa().has_value());
}

// A page whose footer table holds `entries` (GUID text, data), newest last.
Bytes ImageWithTable(const std::vector<std::pair<std::string_view, Bytes>>& entries) {
  Bytes table;
  for (const auto& [guid, data] : entries) {
    table.insert(table.end(), data.begin(), data.end());
    Bytes head(18);
    StoreLe16(head, 0, static_cast<uint16_t>(data.size() + 18));
    Guid g = GuidFromString(guid);
    std::copy(g.begin(), g.end(), head.begin() + 2);
    table.insert(table.end(), head.begin(), head.end());
  }
  Bytes footer(18);
  StoreLe16(footer, 0, static_cast<uint16_t>(table.size() + 18));
  Guid g = GuidFromString(kOvmfTableFooterGuid);
  std::copy(g.begin(), g.end(), footer.begin() + 2);
  table.insert(table.end(), footer.begin(), footer.end());
  Bytes page(kPageSize, 0);
  std::copy(table.begin(), table.end(),
            page.end() - 32 - static_cast<std::ptrdiff_t>(table.size()));
  return page;
}

Bytes Le32(uint32_t v) {
  Bytes b(4);
  StoreLe32(b, 0, v);
  return b;
}

TEST_CASE("A malformed firmware gets a clear error, never a crash", "[measure]") {
  auto err = [](Bytes data) {
    auto r = FirmwareImage::Parse(std::move(data));
    REQUIRE(!r.ok());
    CHECK(r.status().code() == Code::kInvalidInput);
    return r.status().message();
  };
  CHECK_THAT(err({}), Catch::Contains("empty"));
  CHECK_THAT(err(Bytes(4095)), Catch::Contains("whole number of 4096-byte pages"));
  // A footer whose size is smaller than its header, or reaches before the image.
  Bytes page = ImageWithTable({});
  StoreLe16(page, kPageSize - 32 - 18, 3);
  CHECK_THAT(err(page), Catch::Contains("smaller than its own header"));
  StoreLe16(page, kPageSize - 32 - 18, 0xffff);
  CHECK_THAT(err(page), Catch::Contains("before the image start"));
  // An entry whose size overruns the table.
  page = ImageWithTable({{kSevEsResetBlockGuid, Le32(0xffff0000)}});
  StoreLe16(page, kPageSize - 32 - 18 - 18, 200);
  CHECK_THAT(err(page), Catch::Contains("has size 200"));
  // Metadata pointing outside the image, with a bad signature, or too many sections.
  CHECK_THAT(err(ImageWithTable({{kOvmfSevMetadataGuid, Le32(8192)}})),
             Catch::Contains("SEV metadata"));
  page = ImageWithTable({{kOvmfSevMetadataGuid, Le32(kPageSize)}});
  CHECK_THAT(err(page), Catch::Contains("ASEV"));
  std::copy_n("ASEV", 4, page.begin());
  StoreLe32(page, 4, 16 + 12);
  StoreLe32(page, 8, 1);
  StoreLe32(page, 12, 2);
  CHECK_THAT(err(page), Catch::Contains("do not fit"));
  StoreLe32(page, 8, 2);
  CHECK_THAT(err(page), Catch::Contains("version 2"));
}

TEST_CASE("Metadata sections of unknown type or odd size are refused when measured", "[measure]") {
  Bytes page = ImageWithTable(
      {{kSevEsResetBlockGuid, Le32(0xffff0000)}, {kOvmfSevMetadataGuid, Le32(kPageSize)}});
  std::copy_n("ASEV", 4, page.begin());
  StoreLe32(page, 4, 16 + 12);
  StoreLe32(page, 8, 1);
  StoreLe32(page, 12, 1);
  StoreLe32(page, 16, 0x800000);
  StoreLe32(page, 20, 0x1000);
  StoreLe32(page, 24, 9);
  auto image = FirmwareImage::Parse(page);
  REQUIRE(image.ok());
  SnpLaunch launch;
  launch.ovmf = &*image;
  launch.vcpu_sig = 0x800f12;
  auto r = SnpLaunchDigest(launch);
  REQUIRE(!r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("unknown section type 9"));
  StoreLe32(page, 24, 1);
  StoreLe32(page, 20, 100);
  image = FirmwareImage::Parse(page);
  REQUIRE(image.ok());
  launch.ovmf = &*image;
  r = SnpLaunchDigest(launch);
  REQUIRE(!r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("whole number of pages"));
}

TEST_CASE("An image without a footer table has no reset block for SNP vCPUs", "[measure]") {
  auto image = FirmwareImage::Parse(Bytes(2 * kPageSize, 0));
  REQUIRE(image.ok());
  CHECK(image->table_size() == 0);
  SnpLaunch launch;
  launch.ovmf = &*image;
  launch.vcpu_sig = 0x800f12;
  auto r = SnpLaunchDigest(launch);
  REQUIRE(!r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("SEV-ES reset block"));
}

TEST_CASE("An SVSM launch starts every vCPU at the SVSM and refuses what does not apply",
          "[measure]") {
  auto ovmf = LoadFirmware(MeasureVectorDir() + "/ovmf_AmdSev_suffix.bin");
  REQUIRE(ovmf.ok());
  const uint64_t vars = 2 * kPageSize;
  auto svsm = FirmwareImage::Parse(ImageWithTable({{kSvsmInfoGuid, Le32(0x10)}}),
                                   ovmf->gpa() - vars, "svsm");
  REQUIRE(svsm.ok());
  CHECK(*svsm->SvsmEntryPoint() == ovmf->gpa() - vars - kPageSize + 0x10);
  SnpLaunch launch;
  launch.ovmf = &*ovmf;
  launch.svsm = &*svsm;
  launch.vars_size = vars;
  launch.vcpus = 2;
  launch.vcpu_sig = 0x800f12;
  auto d = SnpLaunchDigest(launch);
  REQUIRE(d.ok());
  LaunchDigest ld;
  ld.AddNormalPages(ovmf->gpa(), ovmf->data());
  ld.AddNormalPages(svsm->gpa(), svsm->data());
  Bytes vmsa = Sha384(BuildSvsmVmsa(*svsm->SvsmEntryPoint(), 0x800f12));
  ld.AddVmsaPage(vmsa);
  ld.AddVmsaPage(vmsa);
  CHECK(*d == Bytes(ld.digest().begin(), ld.digest().end()));
  launch.vmm = Vmm::kEc2;
  CHECK(!SnpLaunchDigest(launch).ok());
  launch.vmm = Vmm::kQemu;
  launch.kernel = KernelHashes{};
  CHECK(!SnpLaunchDigest(launch).ok());
  launch.kernel.reset();
  launch.vars_size = vars + kPageSize;  // the SVSM was placed for another variable store
  CHECK(!SnpLaunchDigest(launch).ok());
}

TEST_CASE("VMSA pages start the BSP at the reset vector and APs at the reset block", "[measure]") {
  Bytes bsp = BuildVmsa(Vmm::kQemu, kBspResetEip, 0x21, 0x800f12);
  Bytes ap = BuildVmsa(Vmm::kQemu, 0x0080b004, 0x21, 0x800f12);
  REQUIRE(bsp.size() == kVmsaSize);
  CHECK(LoadLe64(bsp, 0x18) == 0xffff0000);  // CS base
  CHECK(LoadLe64(bsp, 0x178) == 0xfff0);     // RIP
  CHECK(LoadLe64(ap, 0x18) == 0x00800000);
  CHECK(LoadLe64(ap, 0x178) == 0xb004);
  CHECK(LoadLe64(bsp, 0x310) == 0x800f12);  // RDX: the CPUID signature
  CHECK(LoadLe64(bsp, 0x3b0) == 0x21);      // SEV_FEATURES
  CHECK(LoadLe32(bsp, 0x408) == 0x1f80);    // MXCSR
  CHECK(LoadLe16(bsp, 0x410) == 0x37f);     // x87 FCW
  Bytes ec2 = BuildVmsa(Vmm::kEc2, kBspResetEip, 0x1, 0x800f12);
  CHECK(LoadLe16(ec2, 0x12) == 0x9a);
  CHECK(LoadLe16(BuildVmsa(Vmm::kEc2, 0x0080b004, 0x1, 0), 0x12) == 0x9b);
  CHECK(LoadLe64(ec2, 0x310) == 0x600);
  CHECK(LoadLe32(ec2, 0x408) == 0);
  CHECK(LoadLe64(BuildVmsa(Vmm::kGce, kBspResetEip, 0x1, 0), 0x268) == 0x00070106);
}

TEST_CASE("vCPU types map to the CPUID signatures QEMU uses", "[measure]") {
  CHECK(*VcpuTypeSignature("EPYC-v4") == 0x800f12);
  CHECK(*VcpuTypeSignature("EPYC-Rome") == 0x830f10);
  CHECK(*VcpuTypeSignature("EPYC-Milan-v2") == 0xa00f11);
  CHECK(*VcpuTypeSignature("EPYC-Genoa") == 0xa10f10);
  CHECK(*VcpuTypeSignature("EPYC-Turin") == 0xb00f00);
  CHECK(CpuSignature(25, 17, 0) == 0xa10f10);
  CHECK(!VcpuTypeSignature("epyc-v4").ok());
  CHECK(VcpuTypeNames().size() == 16);
}

TEST_CASE("More vCPUs add one AP VMSA page each", "[measure]") {
  auto image = LoadFirmware(MeasureVectorDir() + "/ovmf_AmdSev_suffix.bin");
  REQUIRE(image.ok());
  SnpLaunch launch;
  launch.ovmf = &*image;
  launch.vcpu_sig = 0x800f12;
  launch.vcpus = 2;
  Bytes two = *SnpLaunchDigest(launch);
  launch.vcpus = 3;
  Bytes three = *SnpLaunchDigest(launch);
  std::array<uint8_t, 48> seed{};
  std::copy(two.begin(), two.end(), seed.begin());
  LaunchDigest ld(seed);
  ld.AddVmsaPage(Sha384(BuildVmsa(Vmm::kQemu, *image->SevEsResetEip(), 0x1, 0x800f12)));
  CHECK(Bytes(ld.digest().begin(), ld.digest().end()) == three);
  launch.vcpus = kMaxVcpus + 1;
  CHECK(!SnpLaunchDigest(launch).ok());
}

TEST_CASE("The SEV hash table is laid out as QEMU writes it", "[measure]") {
  KernelHashes h;
  h.kernel.fill(1);
  h.initrd.fill(2);
  h.cmdline.fill(3);
  Bytes t = SevHashTable(h);
  REQUIRE(t.size() == 176);
  CHECK(LoadLe16(t, 16) == 168);
  CHECK(LoadLe16(t, 18 + 16) == 50);
  CHECK(t[18 + 18] == 3);        // cmdline first
  CHECK(t[18 + 50 + 18] == 2);   // then initrd
  CHECK(t[18 + 100 + 18] == 1);  // then kernel
  CHECK(IsAllZero(ByteSpan(t).subspan(168)));
}

}  // namespace
}  // namespace cvm::snp
