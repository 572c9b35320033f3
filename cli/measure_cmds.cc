// cvmctl verbs for the image build: measure (the expected SEV/SEV-ES/SEV-SNP launch digest),
// idblock (the signed SNP ID block) and policy generate (the relying party's expected values).
// None needs a TEE. Exit codes: 0 ok, 2 unusable input (bad option, unreadable or malformed file).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/args.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "snp/idblock.h"
#include "snp/measure.h"
#include "snp/policy_gen.h"

namespace cvm::cli {
namespace {

using nlohmann::json;

void Print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

std::string HexNumber(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));  // NOLINT
  return buf;
}

// A number: decimal, or hex with 0x. `hex_default`: plain digits are hex too ("21" = 0x21).
Result<uint64_t> ParseNumber(const std::string& text, const char* option, uint64_t max,
                             bool hex_default = false) {
  std::string s = text;
  int base = 0;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s = s.substr(2);
    base = 16;
  } else if (hex_default) {
    base = 16;
  } else {
    base = 10;
  }
  bool ok = !s.empty();
  uint64_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : 99;
    if (d >= base || v > (max - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
      ok = false;
      break;
    }
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (!ok) {
    return InvalidInput(std::string(option) + ": '" + text + "' is not a number in 0.." +
                        std::to_string(max) + (hex_default ? " (hex)" : ""));
  }
  return v;
}

Result<Bytes> HexOption(const std::string& text, const char* option, size_t size) {
  std::string s = text;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s = s.substr(2);
  auto b = HexDecodeFixed(s, size);
  if (!b.ok()) return b.status().WithContext(option);
  return b;
}

// --- measure -----------------------------------------------------------------------------------

constexpr char kMeasureUsage[] =
    "Usage: cvmctl measure snp --ovmf F --vcpus N (--vcpu-type NAME | --vcpu-sig HEX) [options]\n"
    "       cvmctl measure snp-ovmf-hash --ovmf F [--json]\n"
    "       cvmctl measure sev --ovmf F [--kernel F [--initrd F] [--append S]] [--json]\n"
    "       cvmctl measure sev-es --ovmf F --vcpus N (--vcpu-type NAME | --vcpu-sig HEX) "
    "[options]\n";

struct MeasureArgs {
  std::string ovmf, vcpus, vcpu_type, vcpu_sig, vmm = "qemu", guest_features, kernel, initrd,
                                                append, ovmf_hash, svsm, vars_size;
  bool append_given = false, json = false;
};

void AddCommon(ArgParser& p, MeasureArgs& a, bool snp) {
  p.Option("ovmf", 0, "F", "the firmware image (OVMF.fd), a whole number of 4 KiB pages", &a.ovmf);
  p.Option("vcpus", 0, "N", "number of vCPUs (one VMSA page each)", &a.vcpus);
  p.Option("vcpu-type", 0, "NAME",
           "QEMU CPU model (EPYC, EPYC-v1..v4, EPYC-IBPB, EPYC-Rome[-v1..v3], EPYC-Milan[-v1,v2], "
           "EPYC-Genoa[-v1], EPYC-Turin)",
           &a.vcpu_type);
  p.Option("vcpu-sig", 0, "HEX", "CPUID signature instead of a model (e.g. 0x800f12)", &a.vcpu_sig);
  p.Option("vmm", 0, "NAME", "qemu (default), ec2 or gce: how the VMM shapes the VMSA", &a.vmm);
  p.Option("kernel", 0, "F", "measured direct boot: the kernel QEMU is given with -kernel",
           &a.kernel);
  p.Option("initrd", 0, "F", "the initrd (-initrd; needs --kernel)", &a.initrd);
  p.Option("append", 0, "S", "the kernel command line (-append; needs --kernel)", &a.append);
  if (snp) {
    p.Option("guest-features", 0, "HEX", "SEV_FEATURES of the VMSAs (default 0x1 = SNPActive)",
             &a.guest_features);
    p.Option("ovmf-hash", 0, "HEX",
             "digest of the firmware pages from 'measure snp-ovmf-hash' (skips hashing them)",
             &a.ovmf_hash);
    p.Option("svsm", 0, "F", "Coconut SVSM image loaded below the OVMF (QEMU)", &a.svsm);
    p.Option("vars-size", 0, "N", "with --svsm: size of the OVMF variable store in bytes",
             &a.vars_size);
  }
  p.Flag("json", 0, "print the inputs with the digest as JSON", &a.json);
}

// The vCPU signature from --vcpu-type or --vcpu-sig (nullopt when neither is given).
Result<std::optional<uint32_t>> VcpuSig(const MeasureArgs& a) {
  if (!a.vcpu_type.empty() && !a.vcpu_sig.empty()) {
    return InvalidInput("give --vcpu-type or --vcpu-sig, not both");
  }
  if (!a.vcpu_type.empty()) {
    CVM_ASSIGN_OR_RETURN(uint32_t sig, snp::VcpuTypeSignature(a.vcpu_type));
    return std::optional<uint32_t>(sig);
  }
  if (!a.vcpu_sig.empty()) {
    CVM_ASSIGN_OR_RETURN(uint64_t sig, ParseNumber(a.vcpu_sig, "--vcpu-sig", 0xffffffff, true));
    return std::optional<uint32_t>(static_cast<uint32_t>(sig));
  }
  return std::optional<uint32_t>();
}

Result<std::optional<snp::KernelHashes>> Kernel(const MeasureArgs& a) {
  if (a.kernel.empty()) {
    if (!a.initrd.empty() || a.append_given) {
      return InvalidInput("--initrd and --append need --kernel");
    }
    return std::optional<snp::KernelHashes>();
  }
  std::optional<std::string> append;
  if (a.append_given) append = a.append;
  CVM_ASSIGN_OR_RETURN(snp::KernelHashes h, snp::HashKernelFiles(a.kernel, a.initrd, append));
  return std::optional<snp::KernelHashes>(h);
}

json InputsJson(const MeasureArgs& a, const std::optional<snp::KernelHashes>& k) {
  json j;
  j["ovmf"] = a.ovmf;
  if (k) {
    j["kernel"] = a.kernel;
    j["kernel_sha256"] = HexEncode(k->kernel);
    j["initrd"] = a.initrd.empty() ? json(nullptr) : json(a.initrd);
    j["initrd_sha256"] = HexEncode(k->initrd);
    j["append"] = a.append_given ? json(a.append) : json(nullptr);
    j["cmdline_sha256"] = HexEncode(k->cmdline);
  }
  return j;
}

bool AppendGiven(Args args) {
  for (const auto& s : args) {
    if (s == "--append" || s.rfind("--append=", 0) == 0) return true;
  }
  return false;
}

int Emit(const std::string& digest_hex, json j, bool as_json) {
  if (as_json) {
    j["measurement"] = digest_hex;
    Print(j.dump(2) + "\n");
  } else {
    Print(digest_hex + "\n");
  }
  return kExitOk;
}

int MeasureSnp(Args args) {
  MeasureArgs a;
  ArgParser p("cvmctl measure snp",
              "--ovmf F --vcpus N (--vcpu-type NAME | --vcpu-sig HEX) [options]",
              "Prints the SEV-SNP launch digest (the report's MEASUREMENT, 48 bytes hex) of a VM\n"
              "started from these images, as the named VMM launches it.");
  AddCommon(p, a, true);
  if (auto code = p.Parse(args)) return *code;
  a.append_given = AppendGiven(args);
  if (a.ovmf.empty()) return Fail(InvalidInput("--ovmf is required"));
  if (a.vcpus.empty()) return Fail(InvalidInput("--vcpus is required"));
  auto vcpus = ParseNumber(a.vcpus, "--vcpus", snp::kMaxVcpus);
  if (!vcpus.ok()) return Fail(vcpus.status());
  auto sig = VcpuSig(a);
  if (!sig.ok()) return Fail(sig.status());
  auto vmm = snp::ParseVmm(a.vmm);
  if (!vmm.ok()) return Fail(vmm.status().WithContext("--vmm"));
  if (*vmm == snp::Vmm::kQemu && !*sig) {
    return Fail(
        InvalidInput("QEMU puts the vCPU signature in every VMSA: give --vcpu-type or "
                     "--vcpu-sig"));
  }
  snp::SnpLaunch launch;
  launch.vcpus = static_cast<uint32_t>(*vcpus);
  launch.vcpu_sig = *sig;
  launch.vmm = *vmm;
  if (!a.guest_features.empty()) {
    auto gf = ParseNumber(a.guest_features, "--guest-features", UINT64_MAX, true);
    if (!gf.ok()) return Fail(gf.status());
    launch.guest_features = *gf;
  }
  if (!a.ovmf_hash.empty()) {
    auto h = HexOption(a.ovmf_hash, "--ovmf-hash", snp::kLaunchDigestSize);
    if (!h.ok()) return Fail(h.status());
    std::array<uint8_t, snp::kLaunchDigestSize> seed{};
    std::copy(h->begin(), h->end(), seed.begin());
    launch.ovmf_hash = seed;
  }
  if (a.svsm.empty() != a.vars_size.empty()) {
    return Fail(InvalidInput("--svsm and --vars-size go together"));
  }
  auto kernel = Kernel(a);
  if (!kernel.ok()) return Fail(kernel.status());
  launch.kernel = *kernel;
  auto ovmf = snp::LoadFirmware(a.ovmf);
  if (!ovmf.ok()) return Fail(ovmf.status());
  launch.ovmf = &*ovmf;
  std::optional<snp::FirmwareImage> svsm;
  if (!a.svsm.empty()) {
    auto vars = ParseNumber(a.vars_size, "--vars-size", snp::kFourGiB);
    if (!vars.ok()) return Fail(vars.status());
    if (*vars % snp::kPageSize != 0 || *vars > ovmf->gpa()) {
      return Fail(InvalidInput("--vars-size: " + a.vars_size +
                               " is not a whole number of pages below the OVMF"));
    }
    auto s = snp::LoadFirmware(a.svsm, ovmf->gpa() - *vars, "svsm");
    if (!s.ok()) return Fail(s.status());
    svsm = std::move(*s);
    launch.svsm = &*svsm;
    launch.vars_size = *vars;
  }
  auto digest = snp::SnpLaunchDigest(launch);
  if (!digest.ok()) return Fail(digest.status());
  json j = InputsJson(a, launch.kernel);
  j["mode"] = svsm ? "snp-svsm" : "snp";
  j["vcpus"] = launch.vcpus;
  j["vcpu_sig"] = launch.vcpu_sig ? json(HexNumber(*launch.vcpu_sig)) : json(nullptr);
  if (!a.vcpu_type.empty()) j["vcpu_type"] = a.vcpu_type;
  j["vmm"] = std::string(snp::VmmName(launch.vmm));
  j["guest_features"] = HexNumber(launch.guest_features);
  if (launch.ovmf_hash) j["ovmf_hash"] = HexEncode(*launch.ovmf_hash);
  if (svsm) {
    j["svsm"] = a.svsm;
    j["vars_size"] = launch.vars_size;
  }
  return Emit(HexEncode(*digest), j, a.json);
}

int MeasureOvmfHash(Args args) {
  std::string ovmf;
  bool as_json = false;
  ArgParser p("cvmctl measure snp-ovmf-hash", "--ovmf F [--json]",
              "Prints the SNP digest of the firmware pages alone (48 bytes hex), for\n"
              "'measure snp --ovmf-hash'.");
  p.Option("ovmf", 0, "F", "the firmware image (OVMF.fd)", &ovmf);
  p.Flag("json", 0, "print the input with the digest as JSON", &as_json);
  if (auto code = p.Parse(args)) return *code;
  if (ovmf.empty()) return Fail(InvalidInput("--ovmf is required"));
  auto image = snp::LoadFirmware(ovmf);
  if (!image.ok()) return Fail(image.status());
  std::string hex = HexEncode(snp::SnpOvmfHash(*image));
  if (!as_json) return Emit(hex, {}, false);
  json j{{"mode", "snp-ovmf-hash"}, {"ovmf", ovmf}, {"ovmf_hash", hex}};
  Print(j.dump(2) + "\n");
  return kExitOk;
}

int MeasureSev(Args args, bool es) {
  MeasureArgs a;
  ArgParser p(es ? "cvmctl measure sev-es" : "cvmctl measure sev",
              es ? "--ovmf F --vcpus N (--vcpu-type NAME | --vcpu-sig HEX) [options]"
                 : "--ovmf F [--kernel F [--initrd F] [--append S]] [--json]",
              es ? "Prints the SEV-ES launch digest (SHA-256, 32 bytes hex)."
                 : "Prints the SEV launch digest (SHA-256, 32 bytes hex).");
  AddCommon(p, a, false);
  if (auto code = p.Parse(args)) return *code;
  a.append_given = AppendGiven(args);
  if (a.ovmf.empty()) return Fail(InvalidInput("--ovmf is required"));
  if (!es && (!a.vcpus.empty() || !a.vcpu_type.empty() || !a.vcpu_sig.empty() || a.vmm != "qemu")) {
    return Fail(
        InvalidInput("SEV measures no VMSA: --vcpus, --vcpu-type, --vcpu-sig and --vmm do "
                     "not apply"));
  }
  auto kernel = Kernel(a);
  if (!kernel.ok()) return Fail(kernel.status());
  auto ovmf = snp::LoadFirmware(a.ovmf);
  if (!ovmf.ok()) return Fail(ovmf.status());
  json j = InputsJson(a, *kernel);
  j["mode"] = es ? "sev-es" : "sev";
  Result<Bytes> digest = Bytes{};
  if (es) {
    if (a.vcpus.empty()) return Fail(InvalidInput("--vcpus is required"));
    auto vcpus = ParseNumber(a.vcpus, "--vcpus", snp::kMaxVcpus);
    if (!vcpus.ok()) return Fail(vcpus.status());
    auto sig = VcpuSig(a);
    if (!sig.ok()) return Fail(sig.status());
    auto vmm = snp::ParseVmm(a.vmm);
    if (!vmm.ok()) return Fail(vmm.status().WithContext("--vmm"));
    digest = snp::SevEsLaunchDigest(*ovmf, *kernel, static_cast<uint32_t>(*vcpus), *sig, *vmm);
    j["vcpus"] = *vcpus;
    j["vcpu_sig"] = *sig ? json(HexNumber(**sig)) : json(nullptr);
    j["vmm"] = std::string(snp::VmmName(*vmm));
  } else {
    digest = snp::SevLaunchDigest(*ovmf, *kernel);
  }
  if (!digest.ok()) return Fail(digest.status());
  return Emit(HexEncode(*digest), j, a.json);
}

// --- idblock -----------------------------------------------------------------------------------

Result<ossl::PKey> LoadKey(const std::string& path, const char* option) {
  if (path.empty()) return InvalidInput(std::string(option) + " is required");
  CVM_ASSIGN_OR_RETURN(Bytes pem, ReadInput(path));
  SecretBytes secret(std::move(pem));
  auto key = snp::LoadSnpSigningKey(AsChars(secret.view()));
  if (!key.ok()) return key.status().WithContext(std::string(option) + " " + path);
  return key;
}

// --- policy ------------------------------------------------------------------------------------

// "bootloader=9,tee=0,snp=23,microcode=72[,fmc=1]" (missing components are 0).
Result<snp::TcbParts> ParseTcb(const std::string& text) {
  snp::TcbParts t;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos)
      return InvalidInput("--min-tcb: expected NAME=N, got '" + item + "'");
    std::string name = item.substr(0, eq);
    CVM_ASSIGN_OR_RETURN(uint64_t v, ParseNumber(item.substr(eq + 1), "--min-tcb", 255));
    uint8_t* field = name == "fmc"          ? &t.fmc
                     : name == "bootloader" ? &t.bootloader
                     : name == "tee"        ? &t.tee
                     : name == "snp"        ? &t.snp
                     : name == "microcode"  ? &t.microcode
                                            : nullptr;
    if (field == nullptr) {
      return InvalidInput("--min-tcb: unknown component '" + name +
                          "' (fmc, bootloader, tee, snp, microcode)");
    }
    *field = static_cast<uint8_t>(v);
    start = end + 1;
  }
  return t;
}

// Fills `v` from the JSON that 'cvmctl idblock --json' prints.
Status FromIdBlockJson(const std::string& path, snp::ReferenceValues& v) {
  CVM_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1 << 20));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidInput(path + ": not a JSON object");
  auto field = [&](const char* name, size_t size) -> Result<Bytes> {
    if (!j.contains(name) || !j[name].is_string()) {
      return InvalidInput(path + ": no string \"" + name + "\" (expected 'cvmctl idblock --json')");
    }
    return HexOption(j[name].get<std::string>(), name, size);
  };
  CVM_ASSIGN_OR_RETURN(Bytes m, field("measurement", 48));
  v.measurements.push_back(m);
  CVM_ASSIGN_OR_RETURN(v.id_key_digest, field("id_key_digest", 48));
  CVM_ASSIGN_OR_RETURN(v.author_key_digest, field("author_key_digest", 48));
  CVM_ASSIGN_OR_RETURN(v.family_id, field("family_id", 16));
  CVM_ASSIGN_OR_RETURN(v.image_id, field("image_id", 16));
  if (!j.contains("guest_svn") || !j["guest_svn"].is_number_unsigned()) {
    return InvalidInput(path + ": no number \"guest_svn\"");
  }
  v.min_guest_svn = j["guest_svn"].get<uint32_t>();
  return Status::Ok();
}

int PolicyGenerate(Args args) {
  std::vector<std::string> measurements;
  std::string idblock_json, id_digest, author_digest, family_id, image_id, host_data, min_svn,
      min_tcb, vmpl, format = "snp", out;
  ArgParser p("cvmctl policy generate",
              "(--measurement HEX... | --idblock-json F) [options] [--format snp|rp|trustee|rvps]",
              "Writes the expected values of an image for a relying party: the SNP policy YAML\n"
              "that 'cvmctl verify --policy' reads (default), a cvm-rp release policy\n"
              "(--format rp), Trustee's reference values (--format trustee) or the RVPS message\n"
              "that registers them (--format rvps).\n"
              "Debug and migration-agent guests are always refused.");
  p.Repeated("measurement", "HEX", "an accepted launch digest (48 bytes; repeatable)",
             &measurements);
  p.Option("idblock-json", 0, "F",
           "take measurement, key digests, family/image ID and guest SVN (as the minimum) from "
           "'cvmctl idblock --json' output",
           &idblock_json);
  p.Option("id-key-digest", 0, "HEX", "expected ID_KEY_DIGEST (48 bytes)", &id_digest);
  p.Option("author-key-digest", 0, "HEX", "expected AUTHOR_KEY_DIGEST (48 bytes)", &author_digest);
  p.Option("family-id", 0, "HEX", "expected FAMILY_ID (16 bytes)", &family_id);
  p.Option("image-id", 0, "HEX", "expected IMAGE_ID (16 bytes)", &image_id);
  p.Option("host-data", 0, "HEX", "expected HOST_DATA (32 bytes)", &host_data);
  p.Option("min-guest-svn", 0, "N", "minimum GUEST_SVN", &min_svn);
  p.Option("min-tcb", 0, "LIST",
           "minimum reported TCB: bootloader=N,tee=N,snp=N,microcode=N[,fmc=N]", &min_tcb);
  p.Option("vmpl", 0, "N", "expected VMPL (0-3)", &vmpl);
  p.Option("format", 0, "F", "snp (YAML, default), rp (cvm-rp policy), trustee or rvps", &format);
  p.Option("output", 'o', "FILE", "output file (default stdout)", &out);
  if (auto code = p.Parse(args)) return *code;
  snp::ReferenceValues v;
  if (!idblock_json.empty()) {
    if (Status st = FromIdBlockJson(idblock_json, v); !st.ok()) return Fail(st);
  }
  for (const auto& m : measurements) {
    auto b = HexOption(m, "--measurement", 48);
    if (!b.ok()) return Fail(b.status());
    v.measurements.push_back(*b);
  }
  struct HexField {
    const std::string& text;
    const char* option;
    size_t size;
    std::optional<Bytes>* out;
  };
  for (const HexField& f :
       {HexField{id_digest, "--id-key-digest", 48, &v.id_key_digest},
        HexField{author_digest, "--author-key-digest", 48, &v.author_key_digest},
        HexField{family_id, "--family-id", 16, &v.family_id},
        HexField{image_id, "--image-id", 16, &v.image_id},
        HexField{host_data, "--host-data", 32, &v.host_data}}) {
    if (f.text.empty()) continue;
    auto b = HexOption(f.text, f.option, f.size);
    if (!b.ok()) return Fail(b.status());
    *f.out = *b;
  }
  if (!min_svn.empty()) {
    auto n = ParseNumber(min_svn, "--min-guest-svn", 0xffffffff);
    if (!n.ok()) return Fail(n.status());
    v.min_guest_svn = static_cast<uint32_t>(*n);
  }
  if (!min_tcb.empty()) {
    auto t = ParseTcb(min_tcb);
    if (!t.ok()) return Fail(t.status());
    v.min_tcb = *t;
  }
  if (!vmpl.empty()) {
    auto n = ParseNumber(vmpl, "--vmpl", 3);
    if (!n.ok()) return Fail(n.status());
    v.vmpl = static_cast<uint32_t>(*n);
  }
  std::string text;
  if (format == "snp") {
    auto y = snp::FormatSnpPolicy(v);
    if (!y.ok()) return Fail(y.status());
    text = *y;
  } else if (format == "rp") {
    auto y = snp::FormatRelyingPartyPolicy(
        v, !idblock_json.empty() && family_id.empty() && image_id.empty());
    if (!y.ok()) return Fail(y.status());
    text = *y;
  } else if (format == "trustee" || format == "rvps") {
    auto r = snp::TrusteeReferenceValues(v);
    if (!r.ok()) return Fail(r.status());
    text = (format == "rvps" ? snp::TrusteeRvpsMessage(*r) : *r).dump(2) + "\n";
  } else {
    return Fail(InvalidInput("--format: '" + format + "' (expected snp, rp, trustee or rvps)"));
  }
  Status st = WriteOutput(out, AsBytes(text));
  return st.ok() ? kExitOk : Fail(st);
}

}  // namespace

int RunMeasure(Args args) {
  return RunVerbs(args, "measure", kMeasureUsage,
                  {{"snp", MeasureSnp},
                   {"snp-ovmf-hash", MeasureOvmfHash},
                   {"sev", [](Args a) { return MeasureSev(a, false); }},
                   {"sev-es", [](Args a) { return MeasureSev(a, true); }}});
}

int RunIdblock(Args args) {
  std::string measurement, id_key_path, author_key_path, policy, family_id, image_id, version,
      guest_svn;
  bool as_json = false;
  ArgParser p("cvmctl idblock",
              "--measurement HEX --id-key F --author-key F [--policy HEX] [--family-id HEX]\n"
              "       [--image-id HEX] [--version N] [--guest-svn N] [--json]",
              "Signs an SNP ID block for a launch digest: prints the 96-byte ID block and the\n"
              "4096-byte ID auth structure in base64 (QEMU: -object sev-snp-guest,id-block=...,\n"
              "id-auth=...,author-key-enabled=on) and the ID_KEY_DIGEST and AUTHOR_KEY_DIGEST\n"
              "the report will carry (hex). Keys: EC P-384 private keys in PEM (SEC1 or PKCS#8).");
  p.Option("measurement", 0, "HEX", "the launch digest from 'cvmctl measure snp' (48 bytes)",
           &measurement);
  p.Option("id-key", 0, "F", "the ID key (signs the block)", &id_key_path);
  p.Option("author-key", 0, "F", "the author key (signs the ID key)", &author_key_path);
  p.Option("policy", 0, "HEX", "the guest policy the VMM launches with (default 0x30000)", &policy);
  p.Option("family-id", 0, "HEX", "FAMILY_ID, 16 bytes (default zeros)", &family_id);
  p.Option("image-id", 0, "HEX", "IMAGE_ID, 16 bytes (default zeros)", &image_id);
  p.Option("version", 0, "N", "ID block format version (the ABI defines only 1, the default)",
           &version);
  p.Option("guest-svn", 0, "N", "GUEST_SVN (default 0)", &guest_svn);
  p.Flag("json", 0, "print every output, with the inputs, as JSON", &as_json);
  if (auto code = p.Parse(args)) return *code;
  if (measurement.empty()) return Fail(InvalidInput("--measurement is required"));
  snp::IdBlockParams params;
  auto m = HexOption(measurement, "--measurement", 48);
  if (!m.ok()) return Fail(m.status());
  params.measurement = *m;
  if (!family_id.empty()) {
    auto b = HexOption(family_id, "--family-id", 16);
    if (!b.ok()) return Fail(b.status());
    params.family_id = *b;
  }
  if (!image_id.empty()) {
    auto b = HexOption(image_id, "--image-id", 16);
    if (!b.ok()) return Fail(b.status());
    params.image_id = *b;
  }
  if (!policy.empty()) {
    auto n = ParseNumber(policy, "--policy", UINT64_MAX, true);
    if (!n.ok()) return Fail(n.status());
    params.policy = *n;
  }
  if (!version.empty()) {
    auto n = ParseNumber(version, "--version", 0xffffffff);
    if (!n.ok()) return Fail(n.status());
    params.version = static_cast<uint32_t>(*n);
  }
  if (!guest_svn.empty()) {
    auto n = ParseNumber(guest_svn, "--guest-svn", 0xffffffff);
    if (!n.ok()) return Fail(n.status());
    params.guest_svn = static_cast<uint32_t>(*n);
  }
  // Check the block before reading keys, so a bad option never touches key material.
  if (auto b = snp::EncodeIdBlock(params); !b.ok()) return Fail(b.status());
  auto id_key = LoadKey(id_key_path, "--id-key");
  if (!id_key.ok()) return Fail(id_key.status());
  auto author_key = LoadKey(author_key_path, "--author-key");
  if (!author_key.ok()) return Fail(author_key.status());
  auto signed_block = snp::SignIdBlock(params, id_key->get(), author_key->get());
  if (!signed_block.ok()) return Fail(signed_block.status());
  const snp::SignedIdBlock& s = *signed_block;
  if (as_json) {
    json j{{"measurement", HexEncode(params.measurement)},
           {"family_id", HexEncode(params.family_id)},
           {"image_id", HexEncode(params.image_id)},
           {"version", params.version},
           {"guest_svn", params.guest_svn},
           {"policy", HexNumber(params.policy)},
           {"id_block", Base64Encode(s.id_block)},
           {"id_auth", Base64Encode(s.id_auth)},
           {"id_key_digest", HexEncode(s.id_key_digest)},
           {"author_key_digest", HexEncode(s.author_key_digest)}};
    Print(j.dump(2) + "\n");
  } else {
    Print("id-block: " + Base64Encode(s.id_block) + "\nid-auth: " + Base64Encode(s.id_auth) +
          "\nid-key-digest: " + HexEncode(s.id_key_digest) +
          "\nauthor-key-digest: " + HexEncode(s.author_key_digest) + "\n");
  }
  return kExitOk;
}

int RunPolicy(Args args) {
  return RunVerbs(args, "policy",
                  "Usage: cvmctl policy generate (--measurement HEX... | --idblock-json F) "
                  "[options]\n"
                  "Run 'cvmctl policy generate --help' for the options.\n",
                  {{"generate", PolicyGenerate}});
}

}  // namespace cvm::cli
