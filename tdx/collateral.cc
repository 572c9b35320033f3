// Collateral parsing and encoding (declared in collateral.h); verification and TCB evaluation
// are in tcb.cc.
#include "tdx/collateral.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "tdx/json_raw.h"

namespace cvm::tdx {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<TcbStatus, std::string_view>, 7> kStatusNames = {{
    {TcbStatus::kUpToDate, "UpToDate"},
    {TcbStatus::kSWHardeningNeeded, "SWHardeningNeeded"},
    {TcbStatus::kConfigurationNeeded, "ConfigurationNeeded"},
    {TcbStatus::kConfigurationAndSWHardeningNeeded, "ConfigurationAndSWHardeningNeeded"},
    {TcbStatus::kOutOfDate, "OutOfDate"},
    {TcbStatus::kOutOfDateConfigurationNeeded, "OutOfDateConfigurationNeeded"},
    {TcbStatus::kRevoked, "Revoked"},
}};

// ---- JSON field readers; each error names the document and the field.

Result<const json*> Member(const json& obj, std::string_view key, std::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return InvalidInput(std::string(where) + ": missing \"" + std::string(key) + "\"");
  }
  return &*it;
}

Result<std::string> String(const json& obj, std::string_view key, std::string_view where) {
  CVM_ASSIGN_OR_RETURN(const json* v, Member(obj, key, where));
  if (!v->is_string()) {
    return InvalidInput(std::string(where) + ": \"" + std::string(key) + "\" is not a string");
  }
  return v->get<std::string>();
}

Result<int64_t> Int(const json& obj, std::string_view key, std::string_view where, int64_t max) {
  CVM_ASSIGN_OR_RETURN(const json* v, Member(obj, key, where));
  if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > max) {
    return InvalidInput(std::string(where) + ": \"" + std::string(key) +
                        "\" is not an integer in 0.." + std::to_string(max));
  }
  return v->get<int64_t>();
}

Result<Bytes> Hex(const json& obj, std::string_view key, std::string_view where, size_t size) {
  CVM_ASSIGN_OR_RETURN(std::string text, String(obj, key, where));
  auto b = HexDecodeFixed(text, size);
  if (!b.ok()) return b.status().WithContext(std::string(where) + ": \"" + std::string(key) + "\"");
  return b;
}

Result<TimePoint> Time(const json& obj, std::string_view key, std::string_view where) {
  CVM_ASSIGN_OR_RETURN(std::string text, String(obj, key, where));
  auto t = ParseTime(text);
  if (!t.ok()) return t.status().WithContext(std::string(where) + ": \"" + std::string(key) + "\"");
  return t;
}

Result<const json*> Array(const json& obj, std::string_view key, std::string_view where) {
  CVM_ASSIGN_OR_RETURN(const json* v, Member(obj, key, where));
  if (!v->is_array()) {
    return InvalidInput(std::string(where) + ": \"" + std::string(key) + "\" is not an array");
  }
  return v;
}

Result<std::vector<std::string>> Advisories(const json& level, std::string_view where) {
  std::vector<std::string> out;
  auto it = level.find("advisoryIDs");
  if (it == level.end()) return out;
  if (!it->is_array()) return InvalidInput(std::string(where) + ": advisoryIDs is not an array");
  for (const json& a : *it) {
    if (!a.is_string()) return InvalidInput(std::string(where) + ": advisory ID is not a string");
    out.push_back(a.get<std::string>());
  }
  return out;
}

Result<TcbStatus> StatusOf(const json& level, std::string_view where) {
  CVM_ASSIGN_OR_RETURN(std::string s, String(level, "tcbStatus", where));
  auto st = ParseTcbStatus(s);
  if (!st.ok()) return st.status().WithContext(where);
  return st;
}

Result<std::array<uint8_t, 16>> Components(const json& tcb, std::string_view key,
                                           std::string_view where) {
  CVM_ASSIGN_OR_RETURN(const json* arr, Array(tcb, key, where));
  if (arr->size() != 16) {
    return InvalidInput(std::string(where) + ": \"" + std::string(key) + "\" has " +
                        std::to_string(arr->size()) + " components, expected 16");
  }
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 16; ++i) {
    if (!(*arr)[i].is_object())
      return InvalidInput(std::string(where) + ": component is not an object");
    CVM_ASSIGN_OR_RETURN(int64_t svn, Int((*arr)[i], "svn", where, 255));
    out[i] = static_cast<uint8_t>(svn);
  }
  return out;
}

Result<std::vector<IsvSvnLevel>> IsvSvnLevels(const json& obj, std::string_view where) {
  CVM_ASSIGN_OR_RETURN(const json* arr, Array(obj, "tcbLevels", where));
  std::vector<IsvSvnLevel> out;
  for (const json& l : *arr) {
    if (!l.is_object()) return InvalidInput(std::string(where) + ": tcb level is not an object");
    IsvSvnLevel level;
    CVM_ASSIGN_OR_RETURN(const json* tcb, Member(l, "tcb", where));
    if (!tcb->is_object()) return InvalidInput(std::string(where) + ": \"tcb\" is not an object");
    CVM_ASSIGN_OR_RETURN(int64_t svn, Int(*tcb, "isvsvn", where, 65535));
    level.isv_svn = static_cast<uint16_t>(svn);
    CVM_ASSIGN_OR_RETURN(level.tcb_date, String(l, "tcbDate", where));
    CVM_ASSIGN_OR_RETURN(level.status, StatusOf(l, where));
    CVM_ASSIGN_OR_RETURN(level.advisory_ids, Advisories(l, where));
    out.push_back(std::move(level));
  }
  // Intel lists levels from the highest ISVSVN down; the first level at or below the reported
  // ISVSVN applies. Sorting makes that independent of the document order.
  std::stable_sort(out.begin(), out.end(), [](const IsvSvnLevel& a, const IsvSvnLevel& b) {
    return a.isv_svn > b.isv_svn;
  });
  return out;
}

Result<TdxModuleIdentity> ModuleIdentity(const json& obj, std::string_view where, bool with_id) {
  TdxModuleIdentity m;
  if (with_id) {
    CVM_ASSIGN_OR_RETURN(m.id, String(obj, "id", where));
    CVM_ASSIGN_OR_RETURN(m.levels, IsvSvnLevels(obj, where));
  }
  CVM_ASSIGN_OR_RETURN(m.mrsigner, Hex(obj, "mrsigner", where, 48));
  CVM_ASSIGN_OR_RETURN(m.attributes, Hex(obj, "attributes", where, 8));
  CVM_ASSIGN_OR_RETURN(m.attributes_mask, Hex(obj, "attributesMask", where, 8));
  return m;
}

Result<json> ParseObject(std::string_view text, std::string_view where) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidInput(std::string(where) + ": not valid JSON");
  if (!j.is_object()) return InvalidInput(std::string(where) + ": not a JSON object");
  return j;
}

// CRLs and signatures: a hex string, a byte array, or (CRLs) PEM text.
Result<Bytes> BinaryField(const json& doc, std::string_view key, bool allow_pem) {
  std::string where = "collateral: \"" + std::string(key) + "\"";
  CVM_ASSIGN_OR_RETURN(const json* v, Member(doc, key, "collateral"));
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (allow_pem && s.rfind("-----BEGIN", 0) == 0) return ToBytes(AsBytes(s));
    auto b = HexDecode(s);
    if (!b.ok()) return b.status().WithContext(where);
    return b;
  }
  if (v->is_array()) {
    Bytes out;
    for (const json& e : *v) {
      if (!e.is_number_unsigned() || e.get<uint64_t>() > 255) {
        return InvalidInput(where + ": byte array holds a value that is not 0..255");
      }
      out.push_back(static_cast<uint8_t>(e.get<uint64_t>()));
    }
    return out;
  }
  return InvalidInput(where + ": neither a hex string nor a byte array");
}

// Resolves a signed-JSON field to its exact signed text (and an embedded signature, if any).
Status SignedField(std::string_view doc_text, const json& doc, std::string_view key,
                   std::string_view inner_key, std::string* text, std::optional<Bytes>* sig) {
  std::string where = "collateral: \"" + std::string(key) + "\"";
  CVM_ASSIGN_OR_RETURN(const json* v, Member(doc, key, "collateral"));
  std::string outer;
  if (v->is_string()) {
    outer = v->get<std::string>();
  } else if (v->is_object()) {
    CVM_ASSIGN_OR_RETURN(std::string_view raw, RawMemberText(doc_text, key));
    outer = std::string(raw);
  } else {
    return InvalidInput(where + ": neither a JSON string nor an object");
  }
  auto parsed = ParseObject(outer, where);
  if (!parsed.ok()) return parsed.status();
  if (parsed->contains(inner_key)) {
    // The PCS response form {"tcbInfo": {...}, "signature": "hex"}.
    auto raw = RawMemberText(outer, inner_key);
    if (!raw.ok()) return raw.status().WithContext(where);
    *text = std::string(*raw);
    if (parsed->contains("signature")) {
      CVM_ASSIGN_OR_RETURN(Bytes s, Hex(*parsed, "signature", where, 64));
      *sig = std::move(s);
    }
  } else {
    *text = std::move(outer);
  }
  return Status::Ok();
}

}  // namespace

Result<SignedJson> ParseSignedResponse(std::string_view body, std::string_view key) {
  std::string where = "pcs response";
  CVM_ASSIGN_OR_RETURN(json j, ParseObject(body, where));
  auto raw = RawMemberText(body, key);
  if (!raw.ok()) return raw.status().WithContext(where);
  SignedJson out;
  out.text = std::string(*raw);
  CVM_ASSIGN_OR_RETURN(out.signature, Hex(j, "signature", where, 64));
  return out;
}

std::string_view TcbStatusName(TcbStatus status) {
  for (const auto& [s, name] : kStatusNames) {
    if (s == status) return name;
  }
  return "Unknown";
}

Result<TcbStatus> ParseTcbStatus(std::string_view name) {
  for (const auto& [s, n] : kStatusNames) {
    if (n == name) return s;
  }
  return InvalidInput("unknown TCB status \"" + std::string(name) + "\"");
}

Result<Collateral> ParseCollateral(std::string_view text) {
  CVM_ASSIGN_OR_RETURN(json doc, ParseObject(text, "collateral"));
  Collateral c;
  CVM_ASSIGN_OR_RETURN(c.pck_crl_issuer_chain, String(doc, "pck_crl_issuer_chain", "collateral"));
  CVM_ASSIGN_OR_RETURN(c.tcb_info_issuer_chain, String(doc, "tcb_info_issuer_chain", "collateral"));
  CVM_ASSIGN_OR_RETURN(c.qe_identity_issuer_chain,
                       String(doc, "qe_identity_issuer_chain", "collateral"));
  CVM_ASSIGN_OR_RETURN(c.root_ca_crl, BinaryField(doc, "root_ca_crl", true));
  CVM_ASSIGN_OR_RETURN(c.pck_crl, BinaryField(doc, "pck_crl", true));
  std::optional<Bytes> tcb_sig, qe_sig;
  CVM_RETURN_IF_ERROR(SignedField(text, doc, "tcb_info", "tcbInfo", &c.tcb_info, &tcb_sig));
  CVM_RETURN_IF_ERROR(
      SignedField(text, doc, "qe_identity", "enclaveIdentity", &c.qe_identity, &qe_sig));
  if (doc.contains("tcb_info_signature") || !tcb_sig) {
    CVM_ASSIGN_OR_RETURN(tcb_sig, BinaryField(doc, "tcb_info_signature", false));
  }
  if (doc.contains("qe_identity_signature") || !qe_sig) {
    CVM_ASSIGN_OR_RETURN(qe_sig, BinaryField(doc, "qe_identity_signature", false));
  }
  c.tcb_info_signature = std::move(*tcb_sig);
  c.qe_identity_signature = std::move(*qe_sig);
  for (const Bytes* s : {&c.tcb_info_signature, &c.qe_identity_signature}) {
    if (s->size() != 64) {
      return InvalidInput("collateral: a signature is " + std::to_string(s->size()) +
                          " bytes; expected 64 (raw r||s P-256)");
    }
  }
  return c;
}

std::string EncodeCollateral(const Collateral& c) {
  nlohmann::ordered_json j;
  j["pck_crl_issuer_chain"] = c.pck_crl_issuer_chain;
  j["root_ca_crl"] = HexEncode(c.root_ca_crl);
  j["pck_crl"] = HexEncode(c.pck_crl);
  j["tcb_info_issuer_chain"] = c.tcb_info_issuer_chain;
  j["tcb_info"] = c.tcb_info;
  j["tcb_info_signature"] = HexEncode(c.tcb_info_signature);
  j["qe_identity_issuer_chain"] = c.qe_identity_issuer_chain;
  j["qe_identity"] = c.qe_identity;
  j["qe_identity_signature"] = HexEncode(c.qe_identity_signature);
  return j.dump(2) + "\n";
}

Result<TcbInfo> ParseTcbInfo(std::string_view text) {
  constexpr std::string_view w = "tcb info";
  CVM_ASSIGN_OR_RETURN(json j, ParseObject(text, w));
  TcbInfo t;
  CVM_ASSIGN_OR_RETURN(t.id, String(j, "id", w));
  CVM_ASSIGN_OR_RETURN(int64_t version, Int(j, "version", w, 1000));
  t.version = static_cast<int>(version);
  if (t.id != "TDX" || t.version != 3) {
    return Unsupported("tcb info: id \"" + t.id + "\" version " + std::to_string(t.version) +
                       " is not TDX TCB info version 3");
  }
  CVM_ASSIGN_OR_RETURN(t.issue_date, Time(j, "issueDate", w));
  CVM_ASSIGN_OR_RETURN(t.next_update, Time(j, "nextUpdate", w));
  CVM_ASSIGN_OR_RETURN(t.fmspc, Hex(j, "fmspc", w, 6));
  CVM_ASSIGN_OR_RETURN(t.pce_id, Hex(j, "pceId", w, 2));
  CVM_ASSIGN_OR_RETURN(int64_t eval, Int(j, "tcbEvaluationDataNumber", w, 1 << 30));
  t.tcb_evaluation_data_number = static_cast<int>(eval);
  CVM_ASSIGN_OR_RETURN(const json* module, Member(j, "tdxModule", w));
  if (!module->is_object()) return InvalidInput("tcb info: \"tdxModule\" is not an object");
  CVM_ASSIGN_OR_RETURN(t.tdx_module, ModuleIdentity(*module, "tcb info: tdxModule", false));
  if (j.contains("tdxModuleIdentities")) {
    CVM_ASSIGN_OR_RETURN(const json* ids, Array(j, "tdxModuleIdentities", w));
    for (const json& m : *ids) {
      if (!m.is_object()) return InvalidInput("tcb info: tdx module identity is not an object");
      CVM_ASSIGN_OR_RETURN(TdxModuleIdentity id,
                           ModuleIdentity(m, "tcb info: tdxModuleIdentities", true));
      t.tdx_module_identities.push_back(std::move(id));
    }
  }
  CVM_ASSIGN_OR_RETURN(const json* levels, Array(j, "tcbLevels", w));
  for (const json& l : *levels) {
    if (!l.is_object()) return InvalidInput("tcb info: tcb level is not an object");
    TcbComponentsLevel level;
    CVM_ASSIGN_OR_RETURN(const json* tcb, Member(l, "tcb", w));
    if (!tcb->is_object()) return InvalidInput("tcb info: \"tcb\" is not an object");
    CVM_ASSIGN_OR_RETURN(level.sgx, Components(*tcb, "sgxtcbcomponents", w));
    CVM_ASSIGN_OR_RETURN(level.tdx, Components(*tcb, "tdxtcbcomponents", w));
    CVM_ASSIGN_OR_RETURN(int64_t pcesvn, Int(*tcb, "pcesvn", w, 65535));
    level.pce_svn = static_cast<uint16_t>(pcesvn);
    CVM_ASSIGN_OR_RETURN(level.tcb_date, String(l, "tcbDate", w));
    CVM_ASSIGN_OR_RETURN(level.status, StatusOf(l, w));
    CVM_ASSIGN_OR_RETURN(level.advisory_ids, Advisories(l, w));
    t.levels.push_back(std::move(level));
  }
  return t;
}

Result<QeIdentity> ParseQeIdentity(std::string_view text) {
  constexpr std::string_view w = "qe identity";
  CVM_ASSIGN_OR_RETURN(json j, ParseObject(text, w));
  QeIdentity q;
  CVM_ASSIGN_OR_RETURN(q.id, String(j, "id", w));
  CVM_ASSIGN_OR_RETURN(int64_t version, Int(j, "version", w, 1000));
  q.version = static_cast<int>(version);
  if (q.id != "TD_QE" || q.version != 2) {
    return Unsupported("qe identity: id \"" + q.id + "\" version " + std::to_string(q.version) +
                       " is not the TD_QE identity version 2");
  }
  CVM_ASSIGN_OR_RETURN(q.issue_date, Time(j, "issueDate", w));
  CVM_ASSIGN_OR_RETURN(q.next_update, Time(j, "nextUpdate", w));
  CVM_ASSIGN_OR_RETURN(Bytes misc, Hex(j, "miscselect", w, 4));
  CVM_ASSIGN_OR_RETURN(Bytes misc_mask, Hex(j, "miscselectMask", w, 4));
  // Intel writes MISCSELECT as big-endian hex text of the 32-bit value.
  q.miscselect = LoadBe32(misc, 0);
  q.miscselect_mask = LoadBe32(misc_mask, 0);
  CVM_ASSIGN_OR_RETURN(q.attributes, Hex(j, "attributes", w, 16));
  CVM_ASSIGN_OR_RETURN(q.attributes_mask, Hex(j, "attributesMask", w, 16));
  CVM_ASSIGN_OR_RETURN(q.mrsigner, Hex(j, "mrsigner", w, 32));
  CVM_ASSIGN_OR_RETURN(int64_t prod, Int(j, "isvprodid", w, 65535));
  q.isv_prod_id = static_cast<uint16_t>(prod);
  CVM_ASSIGN_OR_RETURN(q.levels, IsvSvnLevels(j, w));
  return q;
}

}  // namespace cvm::tdx
