// Relying-party abuse against the real cvm-rp (tests/rp/rp_process.h): evidence from another
// session, replays with a forged key, one nonce attested many times at once, oversized evidence,
// and a flood of sessions. Every refusal has the right status and {type, detail}, is logged,
// releases nothing, and the server still answers afterwards.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/file_util.h"
#include "evidence/jose.h"
#include "evidence/kbs.h"
#include "rp/sessions.h"
#include "tests/rp/fakes.h"
#include "tests/rp/http_client.h"
#include "tests/rp/rp_process.h"

namespace cvm::rp::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string KbsType(const std::string& variant) {
  return std::string(evidence::kKbsErrorTypePrefix) + variant;
}

// The resident set of `pid` in KiB, -1 when unreadable.
long RssKib(pid_t pid) {
  std::istringstream in(TextOf("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST_CASE("cvm-rp refuses evidence for another session's nonce sent with this session's cookie",
          "[rp][abuse]") {
  RpProcess rp;
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  KbsClient a(rp.http_base()), b(rp.http_base());
  REQUIRE(a.Auth("snp").status == 200);
  REQUIRE(b.Auth("snp").status == 200);
  REQUIRE(a.nonce != b.nonce);
  const std::string for_b = SimAttestBody(b.nonce, key->PublicJwk());
  Reply reply = a.Attest(for_b);
  ExpectAttestRefused(rp, a, reply, "nonce");
  CHECK(Field(reply.Json(), "detail").find("Attest failed") != std::string::npos);
  // The evidence was B's all along: B's session is untouched by the misuse and still attests.
  CHECK(b.Attest(for_b).status == 200);
  CHECK(b.Resource(kResource).status == 200);
  // A's session is still open, but only for evidence bound to its own nonce.
  CHECK(a.Attest(SimAttestBody(a.nonce, key->PublicJwk())).status == 200);
}

TEST_CASE("A replayed attest message with a forged key earns nothing sealed to that key",
          "[rp][abuse]") {
  RpProcess rp;
  auto key = evidence::TeeKeyPair::Generate();
  auto forger = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  REQUIRE(forger.ok());
  KbsClient guest(rp.http_base());
  REQUIRE(guest.Auth("snp").status == 200);
  const std::string body = SimAttestBody(guest.nonce, key->PublicJwk());
  Reply first = guest.Attest(body);
  REQUIRE(first.status == 200);
  const std::string token = first.Json().value("token", "");
  REQUIRE_FALSE(token.empty());
  // The same message with the forger's key in place of the guest's: on the attested session it
  // gets the stored token (Trustee's behaviour), on a new session a refusal.
  json forged = json::parse(body);
  forged["runtime-data"]["tee-pubkey"] = forger->PublicJwk();
  Reply replay = guest.Attest(forged.dump());
  CHECK(replay.status == 200);
  CHECK(replay.Json().value("token", "") == token);
  KbsClient other(rp.http_base());
  REQUIRE(other.Auth("snp").status == 200);
  forged["runtime-data"]["nonce"] = other.nonce;
  ExpectAttestRefused(rp, other, other.Attest(forged.dump()), "REPORT_DATA");
  // Whatever the replay got, the resource is sealed to the guest's key only.
  for (const Reply& resource :
       {guest.Resource(kResource), KbsClient(rp.http_base()).Resource(kResource, token)}) {
    REQUIRE(resource.status == 200);
    CHECK_FALSE(forger->Decrypt(resource.body).ok());
    auto plain = key->Decrypt(resource.body);
    REQUIRE(plain.ok());
    CHECK(AsChars(plain->view()) == kSecret);
  }
}

TEST_CASE("A nonce earns one appraisal however many times its evidence is sent at once",
          "[rp][abuse]") {
  RpProcess rp;
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  KbsClient guest(rp.http_base());
  REQUIRE(guest.Auth("snp").status == 200);
  const std::string body = SimAttestBody(guest.nonce, key->PublicJwk());
  constexpr int kSenders = 8;
  std::vector<Reply> replies(kSenders);
  std::vector<std::thread> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&, i] {
      KbsClient c(rp.http_base());
      c.cookie = guest.cookie;
      replies[i] = c.Attest(body);
    });
  }
  for (auto& t : senders) t.join();
  std::set<std::string> tokens;
  for (const auto& r : replies) {
    CHECK(r.status == 200);
    tokens.insert(r.Json().value("token", ""));
  }
  CHECK(tokens.size() == 1);
  // One grant; every other answer is the stored token, and says so in the audit log.
  int granted = 0, stored = 0;
  for (const auto& record : rp.Audit()) {
    if (Field(record, "event") != "attest" || Field(record, "verdict") != "allow") continue;
    if (HasReason(record, "already attested")) {
      ++stored;
    } else {
      ++granted;
    }
  }
  CHECK(granted + stored == kSenders);
  CHECK(granted == 1);
}

TEST_CASE("cvm-rp answers oversized evidence with 413, logs it and keeps serving", "[rp][abuse]") {
  RpProcess rp(Policy(), "limits: {max_body: 65536}\n");
  auto key = evidence::TeeKeyPair::Generate();
  REQUIRE(key.ok());
  KbsClient guest(rp.http_base());
  REQUIRE(guest.Auth("snp").status == 200);
  json padded = json::parse(SimAttestBody(guest.nonce, key->PublicJwk()));
  padded["runtime-data"]["padding"] = std::string(128 << 10, 'p');
  Reply reply = guest.Attest(padded.dump());
  CHECK(reply.status == 413);
  CHECK(reply.body.find("size limit") != std::string::npos);
  CHECK(guest.Resource(kResource).status == 401);
  CHECK_FALSE(rp.AnyResourceReleased());
  CHECK(rp.Log().find("413") != std::string::npos);
  // The same session with evidence of a normal size succeeds.
  CHECK(guest.Attest(SimAttestBody(guest.nonce, key->PublicJwk())).status == 200);
  CHECK(guest.Resource(kResource).status == 200);
}

TEST_CASE("1,000 concurrent sessions leave cvm-rp bounded, refusing more, and answering",
          "[rp][abuse]") {
  // A small sanitizer quarantine, so that the resident set means something.
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  ::setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=4").c_str(), 1);
  RpProcess rp(Policy(), "session_timeout: 5s\nlimits: {max_sessions: 1000}\n");
  {
    KbsClient warm(rp.http_base());
    REQUIRE(warm.Auth("snp").status == 200);
  }
  long rss_before = RssKib(rp.pid());
  // 1,000 sessions opened by 8 clients at once (one is already live: the warm-up's).
  constexpr int kThreads = 8, kEach = 125;
  std::vector<std::vector<std::string>> cookies(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        KbsClient c(rp.http_base());
        if (c.Auth("snp").status == 200) cookies[t].push_back(c.cookie);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> distinct;
  for (const auto& list : cookies) distinct.insert(list.begin(), list.end());
  CHECK(distinct.size() == 999);  // the store holds 1,000 at most
  // The store is full: a further session is refused, with the reason in the audit log.
  KbsClient late(rp.http_base());
  Reply refused = late.Auth("snp");
  CHECK(refused.status == 401);
  CHECK(Field(refused.Json(), "type") == KbsType("AttestationError"));
  CHECK(late.cookie.empty());
  json audit = rp.LastAudit("auth");
  CHECK(Field(audit, "verdict") == "deny");
  CHECK(HasReason(audit, "too many live sessions"));
  long rss_after = RssKib(rp.pid());
  INFO("resident set before " << rss_before << " KiB, after " << rss_after << " KiB");
  CHECK(rss_after <= rss_before + 64 * 1024);
  // Once the sessions expire, new guests are served again, all the way to the resource.
  Reply again;
  auto end = std::chrono::steady_clock::now() + 10s;
  do {
    std::this_thread::sleep_for(100ms);
    KbsClient c(rp.http_base());
    again = c.Auth("snp");
  } while (again.status != 200 && std::chrono::steady_clock::now() < end);
  CHECK(again.status == 200);
  auto r = GetResource(rp.http_base(), "sim-snp", GetSims().snp);
  INFO("cvmctl: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == kSecret);
}

TEST_CASE("Expired sessions are dropped as new ones arrive, not only when the store is full",
          "[rp][abuse]") {
  TestClock clock;
  SessionStore store(clock, std::chrono::seconds(60), 100000);
  for (int i = 0; i < 100; ++i) REQUIRE(store.Create(evidence::TeeKind::kSnp).ok());
  CHECK(store.size() == 100);
  clock.Advance(std::chrono::seconds(61));
  REQUIRE(store.Create(evidence::TeeKind::kSnp).ok());
  CHECK(store.size() == 1);
}

TEST_CASE("A session is found only by its exact id, a grant only by its exact token",
          "[rp][abuse]") {
  TestClock clock;
  SessionStore store(clock, std::chrono::seconds(60), 100000);
  auto session = store.Create(evidence::TeeKind::kSnp);
  REQUIRE(session.ok());
  REQUIRE(session->id.size() == 32);
  auto found = store.Get(session->id);
  REQUIRE(found.ok());
  CHECK(found->nonce == session->nonce);
  std::string other = session->id;
  other[31] = other[31] == '0' ? '1' : '0';
  for (const std::string& id : {std::string(), other, session->id.substr(0, 31), session->id + "0",
                                session->id.substr(0, 30) + "zz", std::string(32, '\0')}) {
    INFO("id: " << id);
    auto missing = store.Get(id);
    CHECK(missing.status().code() == Code::kNotFound);
    CHECK(store.Attest(id, std::make_shared<Grant>()).status().code() == Code::kNotFound);
  }

  auto grant = std::make_shared<Grant>();
  grant->token = "header.claims.signature";
  grant->expires = clock.Now() + std::chrono::seconds(60);
  auto held = store.Attest(session->id, grant);
  REQUIRE(held.ok());
  CHECK(*held == grant);
  store.RememberToken(grant);
  CHECK(store.FindToken("header.claims.signature") == grant);
  CHECK(store.FindToken("header.claims.signaturE") == nullptr);
  CHECK(store.FindToken("") == nullptr);
  // A second attestation of the same session keeps the first grant.
  auto again = store.Attest(session->id, std::make_shared<Grant>());
  REQUIRE(again.ok());
  CHECK(*again == grant);
  // Expired: the session is refused by name, the token is dropped at the next sweep.
  clock.Advance(std::chrono::seconds(61));
  CHECK(store.Get(session->id).status().code() == Code::kDeadlineExceeded);
  REQUIRE(store.Create(evidence::TeeKind::kSnp).ok());
  CHECK(store.FindToken("header.claims.signature") == nullptr);
}

}  // namespace
}  // namespace cvm::rp::testing
