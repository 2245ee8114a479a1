// Strategies cannot see the market's random numbers: a component is handed
// its own stream seed, derived one way from (run seed, component path), and
// nothing from which the run seed, hence the market's streams and the users'
// click draws, could be rebuilt; the scenario's name reaches it without a path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/random.h"
#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

// ---- Compile time: no type handed to a component has a `seed` member.
template <class T, class = void>
struct HasSeedMember : std::false_type {};
template <class T>
struct HasSeedMember<T, std::void_t<decltype(&T::seed)>> : std::true_type {};
static_assert(HasSeedMember<Scenario>::value, "the detector finds a member named seed");
static_assert(!HasSeedMember<BuildContext>::value, "components must not receive the run seed");
static_assert(!HasSeedMember<PublicScenario>::value, "components must not receive the run seed");
static_assert(!HasSeedMember<Snapshot>::value, "controllers must not receive the run seed");
static_assert(!HasSeedMember<BidRequest>::value, "bidders must not receive the run seed");
static_assert(std::is_same_v<decltype(BuildContext::stream_seed), ComponentSeed>,
              "the component's seed is a ComponentSeed, not a raw integer that could be the run seed");

// ---- A probe bidder that records what its factory was handed.
struct Seen {
  std::string where;
  std::string campaign;
  uint64_t stream_seed;
  std::string source_name;
};
std::vector<Seen>& Probes() {
  static std::vector<Seen> v;
  return v;
}
class Probe final : public Bidder {
 public:
  double Bid(const BidRequest&, const CampaignState& state) override { return state.bid; }
};
const Registration kProbe({.name = "test_stream_probe",
                           .kind = ComponentKind::kBidder,
                           .description = "test: records its BuildContext",
                           .params = {},
                           .campaign_scoped = true,
                           .origin = "C++",
                           .make_bidder = [](const BuildContext& ctx) -> std::unique_ptr<Bidder> {
                             Probes().push_back({ctx.where, ctx.scenario->campaigns[ctx.campaign].name,
                                                 ctx.stream_seed.value, ctx.scenario->source_name});
                             return std::make_unique<Probe>();
                           }});

const char* const kScenario =
    "name: probe\nstart: '2026-03-02T00:00:00'\nduration: 1h\nbucket: 1h\ncontrol_cycle: 15m\n"
    "channels:\n"
    "  - {name: display, traffic: {per_hour: 500}, competition: {competitors: 3, median: 0.002}}\n"
    "segments:\n  - {name: a, users: 100, propensity_sigma: 0.3, ctr: 0.01, cvr: 0.1}\n"
    "campaigns:\n"
    "  - {name: one, bid: 0.003, creatives: [x, y], bidder: {type: test_stream_probe}}\n"
    "  - {name: two, bid: 0.003, bidder: {type: test_stream_probe}}\n";

std::vector<Seen> ProbeRun(const Scenario& sc, uint64_t seed) {
  Probes().clear();
  RunOptions opt;
  opt.seed = seed;
  RunScenario(sc, opt);
  // Validation builds each C++ component once to check its parameters
  // (core/registry.cc, CheckBuild) with no stream (seed 0) and throws it away;
  // keep only the components of the run.
  std::vector<Seen> run;
  for (const Seen& s : Probes())
    if (s.stream_seed != 0) run.push_back(s);
  return run;
}

// Inverse of Mix64 (each step of the SplitMix64 finaliser is a bijection):
// x ^= x >> s is undone by repeating it, multiplication by an odd constant by
// its inverse mod 2^64.
uint64_t UnXorShift(uint64_t y, int s) {
  uint64_t x = y;
  for (int i = 0; i < 64 / s + 1; ++i) x = y ^ (x >> s);
  return x;
}
uint64_t InverseOdd(uint64_t a) {
  uint64_t x = a;  // Newton's iteration doubles the correct low bits each step
  for (int i = 0; i < 6; ++i) x *= 2 - a * x;
  return x;
}
uint64_t InvMix64(uint64_t z) {
  z = UnXorShift(z, 31);
  z *= InverseOdd(0x94d049bb133111ebULL);
  z = UnXorShift(z, 27);
  z *= InverseOdd(0xbf58476d1ce4e5b9ULL);
  return UnXorShift(z, 30);
}
// What a strategy handed StreamSeed(run_seed, path) could compute: the run seed.
uint64_t RunSeedFromStreamSeed(uint64_t stream_seed, const std::string& path) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : path) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return InvMix64(InvMix64(stream_seed) ^ Mix64(h)) - 0x9e3779b97f4a7c15ULL;
}

TEST(ComponentStreams, TheAttackOnAnInvertibleSeedWorks) {
  // Why a one-way derivation is needed: from StreamSeed(seed, path) and the
  // path, the run seed comes back exactly.
  for (uint64_t seed : {uint64_t{0}, uint64_t{7}, uint64_t{20261124}, ~uint64_t{0}})
    for (const std::string path : {"strategies/throttled/one", "components/campaigns[0].bidder/throttled"})
      EXPECT_EQ(RunSeedFromStreamSeed(StreamSeed(seed, path), path), seed);
}

TEST(ComponentStreams, TheRunSeedCannotBeComputedFromAComponentsSeed) {
  const Scenario sc = test::Parse(kScenario);
  for (uint64_t seed : {uint64_t{7}, uint64_t{20261124}}) {
    const std::vector<Seen> seen = ProbeRun(sc, seed);
    ASSERT_EQ(seen.size(), 2u);
    for (const Seen& s : seen) {
      // Every path a component could guess for itself: none inverts to the seed.
      for (const std::string& path : {ComponentStreamPath(s.where, "test_stream_probe"),
                                      "strategies/test_stream_probe/" + s.campaign, s.where, std::string()})
        EXPECT_NE(RunSeedFromStreamSeed(s.stream_seed, path), seed) << path;
      // And it is none of the market's or the engine's stream seeds.
      for (const char* path :
           {"market/segments/a/users", "market/channels/display/arrivals", "market/channels/display/competition",
            "market/channels/display/response", "campaigns/one/creatives", "campaigns/two/creatives"})
        EXPECT_NE(s.stream_seed, StreamSeed(seed, path)) << path;
      EXPECT_NE(s.stream_seed, seed);
      EXPECT_EQ(s.stream_seed, MakeComponentSeed(seed, ComponentStreamPath(s.where, "test_stream_probe")).value);
    }
  }
}

TEST(ComponentStreams, OwnStreamPerComponentFixedByTheSeed) {
  const Scenario sc = test::Parse(kScenario);
  const std::vector<Seen> a = ProbeRun(sc, 7), again = ProbeRun(sc, 7), other = ProbeRun(sc, 8);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(again.size(), 2u);
  ASSERT_EQ(other.size(), 2u);
  EXPECT_NE(a[0].stream_seed, a[1].stream_seed);  // two components, two streams
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a[i].where, other[i].where);
    EXPECT_EQ(a[i].stream_seed, again[i].stream_seed);  // the same seed, the same stream
    EXPECT_NE(a[i].stream_seed, other[i].stream_seed);  // another seed, another stream
    EXPECT_EQ(a[i].source_name, other[i].source_name);  // and the same public information
  }
}

TEST(ComponentStreams, ComponentSeedIsTheDocumentedHash) {
  // Pinned: a change of the derivation changes every strategy's draws, so it
  // must be deliberate. The values come from Python's hashlib:
  //   int.from_bytes(sha1(b"adsim component stream v1" + pack("<Q", seed) + path).digest()[:8], "big")
  EXPECT_EQ(MakeComponentSeed(7, "components/campaigns[0].bidder/throttled").value, 0x47d6376060a6fb9cULL);
  EXPECT_EQ(MakeComponentSeed(20261124, "components/campaigns[0].controllers[0]/creative_thompson").value,
            0xe627225ba9ffb90aULL);
  EXPECT_NE(MakeComponentSeed(7, "components/campaigns[0].bidder/throttled").value,
            MakeComponentSeed(8, "components/campaigns[0].bidder/throttled").value);
  EXPECT_NE(MakeComponentSeed(7, "components/campaigns[0].bidder/throttled").value,
            MakeComponentSeed(7, "components/campaigns[1].bidder/throttled").value);
}

TEST(ComponentStreams, ScenarioNameReachesComponentsWithoutItsDirectories) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("adsim_streams_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "secret");
  const std::filesystem::path file = dir / "secret" / "probe.yaml";
  {
    std::ofstream out(file);
    out << kScenario;
  }
  const Scenario sc = LoadScenarioFile(file.string());
  std::filesystem::remove_all(dir);
  EXPECT_NE(sc.source_name.find('/'), std::string::npos);  // messages still name the whole path
  for (const Seen& s : ProbeRun(sc, 7)) EXPECT_EQ(s.source_name, "probe.yaml");
  EXPECT_EQ(PublicSourceName("<dict>"), "<dict>");
  EXPECT_EQ(PublicSourceName("a/b/c.json"), "c.json");
}

}  // namespace
}  // namespace adsim
