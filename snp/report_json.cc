#include "snp/report_json.h"

#include "common/encoding.h"

namespace cvm::snp {

nlohmann::ordered_json TcbToJson(uint64_t raw, Product product) {
  TcbParts t = DecodeTcb(raw, product);
  nlohmann::ordered_json j;
  if (UsesTurinLayout(product)) j["fmc"] = t.fmc;
  j["bootloader"] = t.bootloader;
  j["tee"] = t.tee;
  j["snp"] = t.snp;
  j["microcode"] = t.microcode;
  j["raw"] = raw;
  return j;
}

nlohmann::ordered_json ReportToJson(const Report& r, Product p) {
  nlohmann::ordered_json j;
  j["tee"] = "snp";
  j["product"] = std::string(ProductName(p));
  j["version"] = r.version;
  j["guest_svn"] = r.guest_svn;
  j["policy"] = r.policy;
  j["family_id"] = HexEncode(r.family_id);
  j["image_id"] = HexEncode(r.image_id);
  j["vmpl"] = r.vmpl;
  j["signature_algo"] = r.signature_algo;
  j["current_tcb"] = TcbToJson(r.current_tcb, p);
  j["platform_info"] = r.platform_info;
  j["signer_info"] = r.signer_info;
  j["report_data"] = HexEncode(r.report_data);
  j["measurement"] = HexEncode(r.measurement);
  j["host_data"] = HexEncode(r.host_data);
  j["id_key_digest"] = HexEncode(r.id_key_digest);
  j["author_key_digest"] = HexEncode(r.author_key_digest);
  j["report_id"] = HexEncode(r.report_id);
  j["report_id_ma"] = HexEncode(r.report_id_ma);
  j["reported_tcb"] = TcbToJson(r.reported_tcb, p);
  if (r.HasCpuid()) {
    j["cpuid_fam_id"] = r.cpuid_fam_id;
    j["cpuid_mod_id"] = r.cpuid_mod_id;
    j["cpuid_step"] = r.cpuid_step;
  }
  j["chip_id"] = HexEncode(r.chip_id);
  j["committed_tcb"] = TcbToJson(r.committed_tcb, p);
  j["current_build"] = r.current_build;
  j["current_minor"] = r.current_minor;
  j["current_major"] = r.current_major;
  j["committed_build"] = r.committed_build;
  j["committed_minor"] = r.committed_minor;
  j["committed_major"] = r.committed_major;
  j["launch_tcb"] = TcbToJson(r.launch_tcb, p);
  if (r.HasMitigationVectors()) {
    j["launch_mit_vector"] = r.launch_mit_vector;
    j["current_mit_vector"] = r.current_mit_vector;
  }
  return j;
}

}  // namespace cvm::snp
