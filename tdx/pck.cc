#include "tdx/pck.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/ossl.h"

namespace cvm::tdx {
namespace {

struct SeqFree {
  void operator()(ASN1_SEQUENCE_ANY* s) const { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
};
using Seq = std::unique_ptr<ASN1_SEQUENCE_ANY, SeqFree>;

constexpr std::string_view kPrefix = "1.2.840.113741.1.13.1";

Result<Seq> ParseSeq(ByteSpan der, std::string_view what) {
  const unsigned char* p = der.data();
  Seq seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p,
                                static_cast<long>(der.size())));  // NOLINT(google-runtime-int)
  if (!seq) {
    ossl::ClearErrors();
    return InvalidInput(std::string("pck extension: ") + std::string(what) +
                        " is not a DER SEQUENCE");
  }
  if (p != der.data() + der.size()) {
    return InvalidInput(std::string("pck extension: trailing bytes after ") + std::string(what));
  }
  return seq;
}

// The content bytes of a dotted OID (its DER without tag and length). REQUIRES: a valid OID.
Bytes EncodedOid(std::string_view dotted) {
  ossl::Asn1Object obj(OBJ_txt2obj(std::string(dotted).c_str(), 1));
  if (!obj) std::abort();
  const unsigned char* d = OBJ_get0_data(obj.get());
  return Bytes(d, d + OBJ_length(obj.get()));
}

// The SGX extension's OID arcs (kPrefix) and those of its TCB entries (kPrefix.2), encoded once:
// entries are matched by their encoded OID, which is cheaper than printing every OID as text.
const Bytes& SgxPrefix() {
  static const Bytes kBytes = EncodedOid(kPrefix);
  return kBytes;
}
const Bytes& TcbPrefix() {
  static const Bytes kBytes = EncodedOid(std::string(kPrefix) + ".2");
  return kBytes;
}

// n when `oid` is `prefix`.n for one more arc n below 128 (one encoded byte), otherwise -1.
int ArcAfter(ByteSpan oid, const Bytes& prefix) {
  if (oid.size() != prefix.size() + 1 || !std::equal(prefix.begin(), prefix.end(), oid.begin()) ||
      oid.back() >= 0x80) {
    return -1;
  }
  return oid.back();
}

// One SEQUENCE { OID, value } entry; `oid` and `value` point into `holder`.
struct Entry {
  ByteSpan oid;  // the OID's encoded content bytes
  Seq holder;
  const ASN1_TYPE* value = nullptr;
};

Result<Entry> OidValue(const ASN1_TYPE* item) {
  if (item->type != V_ASN1_SEQUENCE) {
    return InvalidInput("pck extension: entry is not a SEQUENCE { OID, value }");
  }
  const ASN1_STRING* s = item->value.sequence;
  Entry e;
  CVM_ASSIGN_OR_RETURN(e.holder, ParseSeq(ByteSpan(ASN1_STRING_get0_data(s),
                                                   static_cast<size_t>(ASN1_STRING_length(s))),
                                          "entry"));
  if (sk_ASN1_TYPE_num(e.holder.get()) != 2) {
    return InvalidInput("pck extension: entry does not have exactly two elements");
  }
  const ASN1_TYPE* oid = sk_ASN1_TYPE_value(e.holder.get(), 0);
  if (oid->type != V_ASN1_OBJECT) return InvalidInput("pck extension: entry without an OID");
  const unsigned char* d = OBJ_get0_data(oid->value.object);
  e.oid = d == nullptr ? ByteSpan() : ByteSpan(d, OBJ_length(oid->value.object));
  e.value = sk_ASN1_TYPE_value(e.holder.get(), 1);
  return e;
}

Result<Bytes> Octets(const ASN1_TYPE* v, size_t size, std::string_view what) {
  if (v->type != V_ASN1_OCTET_STRING) {
    return InvalidInput("pck extension: " + std::string(what) + " is not an OCTET STRING");
  }
  const ASN1_STRING* s = v->value.octet_string;
  if (static_cast<size_t>(ASN1_STRING_length(s)) != size) {
    return InvalidInput("pck extension: " + std::string(what) + " is " +
                        std::to_string(ASN1_STRING_length(s)) + " bytes, expected " +
                        std::to_string(size));
  }
  const uint8_t* d = ASN1_STRING_get0_data(s);
  return Bytes(d, d + size);
}

// NOLINTNEXTLINE(google-runtime-int): OpenSSL's ASN.1 integers are long.
Result<long> Integer(const ASN1_TYPE* v, long max, std::string_view what) {
  long value = -1;  // NOLINT(google-runtime-int)
  if (v->type == V_ASN1_INTEGER)
    value = ASN1_INTEGER_get(v->value.integer);
  else if (v->type == V_ASN1_ENUMERATED)
    value = ASN1_ENUMERATED_get(v->value.enumerated);
  else
    return InvalidInput("pck extension: " + std::string(what) + " is not an INTEGER");
  if (value < 0 || value > max) {
    ossl::ClearErrors();
    return InvalidInput("pck extension: " + std::string(what) + " is out of range");
  }
  return value;
}

Status ParseTcb(const ASN1_TYPE* v, PckExtensions& out) {
  if (v->type != V_ASN1_SEQUENCE) return InvalidInput("pck extension: TCB is not a SEQUENCE");
  const ASN1_STRING* s = v->value.sequence;
  CVM_ASSIGN_OR_RETURN(Seq seq, ParseSeq(ByteSpan(ASN1_STRING_get0_data(s),
                                                  static_cast<size_t>(ASN1_STRING_length(s))),
                                         "TCB"));
  uint32_t seen = 0;
  const std::string prefix = std::string(kPrefix) + ".2.";
  for (int i = 0; i < sk_ASN1_TYPE_num(seq.get()); ++i) {
    CVM_ASSIGN_OR_RETURN(auto entry, OidValue(sk_ASN1_TYPE_value(seq.get(), i)));
    int n = ArcAfter(entry.oid, TcbPrefix());
    if (n >= 1 && n <= 16) {
      CVM_ASSIGN_OR_RETURN(long svn, Integer(entry.value, 255, "TCB component SVN"));
      out.tcb_comps[static_cast<size_t>(n - 1)] = static_cast<uint8_t>(svn);
    } else if (n == 17) {
      CVM_ASSIGN_OR_RETURN(long svn, Integer(entry.value, 65535, "PCESVN"));
      out.pce_svn = static_cast<uint16_t>(svn);
    } else if (n == 18) {
      CVM_ASSIGN_OR_RETURN(out.cpu_svn, Octets(entry.value, 16, "CPUSVN"));
    } else {
      continue;
    }
    seen |= 1u << n;
  }
  for (int n = 1; n <= 18; ++n) {
    if (!(seen & (1u << n))) {
      return InvalidInput("pck extension: TCB lacks component " + prefix + std::to_string(n));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<PckExtensions> ParsePckExtensions(ByteSpan der) {
  CVM_ASSIGN_OR_RETURN(Seq seq, ParseSeq(der, "SGX extension"));
  PckExtensions out;
  bool tcb = false, pce = false, fmspc = false, type = false;
  const std::string prefix = std::string(kPrefix) + ".";
  for (int i = 0; i < sk_ASN1_TYPE_num(seq.get()); ++i) {
    CVM_ASSIGN_OR_RETURN(auto entry, OidValue(sk_ASN1_TYPE_value(seq.get(), i)));
    int arc = ArcAfter(entry.oid, SgxPrefix());
    if (arc == 1) {
      CVM_ASSIGN_OR_RETURN(out.ppid, Octets(entry.value, 16, "PPID"));
    } else if (arc == 2) {
      CVM_RETURN_IF_ERROR(ParseTcb(entry.value, out));
      tcb = true;
    } else if (arc == 3) {
      CVM_ASSIGN_OR_RETURN(out.pce_id, Octets(entry.value, 2, "PCE-ID"));
      pce = true;
    } else if (arc == 4) {
      CVM_ASSIGN_OR_RETURN(out.fmspc, Octets(entry.value, 6, "FMSPC"));
      fmspc = true;
    } else if (arc == 5) {
      CVM_ASSIGN_OR_RETURN(long t, Integer(entry.value, 255, "SGX type"));
      out.sgx_type = static_cast<int>(t);
      type = true;
    }
  }
  if (!tcb) return InvalidInput("pck extension: no TCB (" + prefix + "2)");
  if (!pce) return InvalidInput("pck extension: no PCE-ID (" + prefix + "3)");
  if (!fmspc) return InvalidInput("pck extension: no FMSPC (" + prefix + "4)");
  if (!type) return InvalidInput("pck extension: no SGX type (" + prefix + "5)");
  return out;
}

Result<PckExtensions> PckExtensionsOf(const Certificate& pck) {
  auto der = pck.Extension(kSgxExtensionOid);
  if (!der)
    return InvalidInput("pck certificate has no SGX extension (" + std::string(kPrefix) + ")");
  return ParsePckExtensions(*der);
}

namespace {

using TypePtr = std::unique_ptr<ASN1_TYPE, ossl::Deleter<ASN1_TYPE_free>>;

Result<Bytes> EncodeSeq(std::vector<TypePtr>& items) {
  Seq seq(sk_ASN1_TYPE_new_null());
  if (!seq) return ossl::Error("pck extension: allocation");
  for (auto& item : items) {
    if (!sk_ASN1_TYPE_push(seq.get(), item.get())) return ossl::Error("pck extension: push");
    static_cast<void>(item.release());  // the sequence owns it now
  }
  unsigned char* der = nullptr;
  int len = i2d_ASN1_SEQUENCE_ANY(seq.get(), &der);
  if (len <= 0) return ossl::Error("pck extension: encode");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Result<TypePtr> SeqType(const Bytes& der) {
  TypePtr t(ASN1_TYPE_new());
  ASN1_STRING* s = ASN1_STRING_new();
  if (!t || !s || !ASN1_STRING_set(s, der.data(), static_cast<int>(der.size()))) {
    ASN1_STRING_free(s);
    return ossl::Error("pck extension: allocation");
  }
  ASN1_TYPE_set(t.get(), V_ASN1_SEQUENCE, s);
  return t;
}

Result<TypePtr> MakeEntry(const std::string& oid, TypePtr value) {
  TypePtr o(ASN1_TYPE_new());
  ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
  if (!o || !obj) return ossl::Error("pck extension: oid");
  ASN1_TYPE_set(o.get(), V_ASN1_OBJECT, obj);
  std::vector<TypePtr> items;
  items.push_back(std::move(o));
  items.push_back(std::move(value));
  CVM_ASSIGN_OR_RETURN(Bytes der, EncodeSeq(items));
  return SeqType(der);
}

Result<TypePtr> IntType(long v) {  // NOLINT(google-runtime-int)
  TypePtr t(ASN1_TYPE_new());
  ASN1_INTEGER* i = ASN1_INTEGER_new();
  if (!t || !i || !ASN1_INTEGER_set(i, v)) {
    ASN1_INTEGER_free(i);
    return ossl::Error("pck extension: integer");
  }
  ASN1_TYPE_set(t.get(), V_ASN1_INTEGER, i);
  return t;
}

Result<TypePtr> EnumType(long v) {  // NOLINT(google-runtime-int)
  TypePtr t(ASN1_TYPE_new());
  ASN1_ENUMERATED* i = ASN1_ENUMERATED_new();
  if (!t || !i || !ASN1_ENUMERATED_set(i, v)) {
    ASN1_ENUMERATED_free(i);
    return ossl::Error("pck extension: enumerated");
  }
  ASN1_TYPE_set(t.get(), V_ASN1_ENUMERATED, i);
  return t;
}

Result<TypePtr> OctetType(const Bytes& b) {
  TypePtr t(ASN1_TYPE_new());
  ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
  if (!t || !s || !ASN1_OCTET_STRING_set(s, b.data(), static_cast<int>(b.size()))) {
    ASN1_OCTET_STRING_free(s);
    return ossl::Error("pck extension: octet string");
  }
  ASN1_TYPE_set(t.get(), V_ASN1_OCTET_STRING, s);
  return t;
}

}  // namespace

Result<Bytes> EncodePckExtensions(const PckExtensions& ext) {
  const std::string p = std::string(kPrefix) + ".";
  std::vector<TypePtr> tcb;
  for (size_t i = 0; i < 16; ++i) {
    CVM_ASSIGN_OR_RETURN(TypePtr v, IntType(ext.tcb_comps[i]));
    CVM_ASSIGN_OR_RETURN(TypePtr e, MakeEntry(p + "2." + std::to_string(i + 1), std::move(v)));
    tcb.push_back(std::move(e));
  }
  CVM_ASSIGN_OR_RETURN(TypePtr pcesvn, IntType(ext.pce_svn));
  CVM_ASSIGN_OR_RETURN(TypePtr pcesvn_e, MakeEntry(p + "2.17", std::move(pcesvn)));
  tcb.push_back(std::move(pcesvn_e));
  CVM_ASSIGN_OR_RETURN(TypePtr cpusvn, OctetType(ext.cpu_svn));
  CVM_ASSIGN_OR_RETURN(TypePtr cpusvn_e, MakeEntry(p + "2.18", std::move(cpusvn)));
  tcb.push_back(std::move(cpusvn_e));
  CVM_ASSIGN_OR_RETURN(Bytes tcb_der, EncodeSeq(tcb));

  std::vector<TypePtr> top;
  CVM_ASSIGN_OR_RETURN(TypePtr ppid, OctetType(ext.ppid));
  CVM_ASSIGN_OR_RETURN(TypePtr e1, MakeEntry(p + "1", std::move(ppid)));
  top.push_back(std::move(e1));
  CVM_ASSIGN_OR_RETURN(TypePtr tcb_t, SeqType(tcb_der));
  CVM_ASSIGN_OR_RETURN(TypePtr e2, MakeEntry(p + "2", std::move(tcb_t)));
  top.push_back(std::move(e2));
  CVM_ASSIGN_OR_RETURN(TypePtr pceid, OctetType(ext.pce_id));
  CVM_ASSIGN_OR_RETURN(TypePtr e3, MakeEntry(p + "3", std::move(pceid)));
  top.push_back(std::move(e3));
  CVM_ASSIGN_OR_RETURN(TypePtr fmspc, OctetType(ext.fmspc));
  CVM_ASSIGN_OR_RETURN(TypePtr e4, MakeEntry(p + "4", std::move(fmspc)));
  top.push_back(std::move(e4));
  CVM_ASSIGN_OR_RETURN(TypePtr type, EnumType(ext.sgx_type));
  CVM_ASSIGN_OR_RETURN(TypePtr e5, MakeEntry(p + "5", std::move(type)));
  top.push_back(std::move(e5));
  return EncodeSeq(top);
}

}  // namespace cvm::tdx
