#include <doctest/doctest.h>

#include "mlc/error.hpp"
#include "mlc/lifecycle.hpp"

using mlc::Action;
using mlc::Error;
using mlc::Force;
using mlc::State;
using mlc::next_state;

TEST_CASE("next_state: the forward path") {
  CHECK(next_state(Action::evaluate, State::trained, "m:1") == State::evaluated);
  CHECK(next_state(Action::export_model, State::evaluated, "m:1") == State::exported);
  CHECK(next_state(Action::register_model, State::exported, "m:1") == State::registered);
  CHECK(next_state(Action::deploy, State::registered, "m:1") == State::deployed);
  CHECK(next_state(Action::retire, State::registered, "m:1") == State::retired);
}

TEST_CASE("next_state: allowed actions that do not advance the life") {
  CHECK(next_state(Action::evaluate, State::registered, "m:1") == State::registered);
  CHECK(next_state(Action::evaluate, State::deployed, "m:1") == State::deployed);
  CHECK(next_state(Action::export_model, State::registered, "m:1") == State::registered);
  CHECK(next_state(Action::deploy, State::deployed, "m:1") == State::deployed);
  CHECK(next_state(Action::register_model, State::registered, "m:1") == State::registered);
  CHECK(next_state(Action::register_model, State::deployed, "m:1") == State::deployed);
}

TEST_CASE("next_state: refusals name the version, its state and what is needed") {
  SUBCASE("export before eval") {
    REQUIRE_THROWS_WITH_AS(next_state(Action::export_model, State::trained, "m:1"),
                           "cannot export m:1: it is trained; only an evaluated version can be "
                           "exported (run mlc eval first)",
                           Error);
  }
  SUBCASE("register before export") {
    REQUIRE_THROWS_WITH_AS(next_state(Action::register_model, State::evaluated, "m:1"),
                           "cannot register m:1: it is evaluated; only an exported version can be "
                           "registered (run mlc export first)",
                           Error);
  }
  SUBCASE("deploy before register") {
    REQUIRE_THROWS_WITH_AS(next_state(Action::deploy, State::exported, "m:1"),
                           "cannot deploy m:1: it is exported; only a registered version can be "
                           "deployed (run mlc register first)",
                           Error);
  }
  SUBCASE("retire a deployed version without force") {
    REQUIRE_THROWS_WITH_AS(next_state(Action::retire, State::deployed, "m:1"),
                           "cannot retire m:1: it is deployed; use --force to take it off its "
                           "targets and retire it",
                           Error);
    CHECK(next_state(Action::retire, State::deployed, "m:1", Force::yes) == State::retired);
  }
}

TEST_CASE("next_state: retired is final for every action") {
  for (Action action : {Action::evaluate, Action::export_model, Action::register_model,
                        Action::deploy, Action::retire}) {
    CAPTURE(mlc::to_string(action));
    try {
      next_state(action, State::retired, "m:1", Force::yes);
      FAIL("a retired version moved");
    } catch (const Error& e) {
      CHECK(e.kind() == mlc::ErrorKind::refused);
      CHECK(std::string(e.what()).find("it is retired; a retired version is final") != std::string::npos);
    }
  }
}

TEST_CASE("parse_state and to_string round-trip; unknown states are usage errors") {
  for (State state : {State::trained, State::evaluated, State::exported, State::registered,
                      State::deployed, State::retired}) {
    CHECK(mlc::parse_state(mlc::to_string(state)) == state);
  }
  REQUIRE_THROWS_WITH_AS(mlc::parse_state("live"),
                         "unknown state 'live' (expected trained, evaluated, exported, registered, "
                         "deployed or retired)",
                         Error);
}
