// The fixture edge's one error mapping, table-driven: file, item path, field and AWS type become
// the line a fixture's author reads, and the error keeps its code and field.

#include "emulator/core/fixture_error.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "emulator/core/ecs/ecs_errors.hpp"

namespace emu::core {
namespace {

struct Case {
  const char* name;
  Error error;
  const char* path;
  const char* message;  ///< what the author reads
  Code code;
  const char* field;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

const Case kCases[] = {
    {"FileLevel", invalid("the document must be a JSON object"), "",
     "fixtures/x.json: the document must be a JSON object", Code::InvalidArgument, ""},
    {"Field", invalid_field("services[1].healthCheck.retries", "must be 1..10"), "",
     "fixtures/x.json: services[1].healthCheck.retries: must be 1..10", Code::InvalidArgument,
     "services[1].healthCheck.retries"},
    {"RegistryConflict", conflict("task t-1 already exists"), "",
     "fixtures/x.json: task t-1 already exists", Code::Conflict, ""},
    {"CommandProbes",
     Error{Code::CommandProbesDisabled, "services[0].healthCheck: off", "services[0].healthCheck"},
     "", "fixtures/x.json: services[0].healthCheck: off", Code::CommandProbesDisabled,
     "services[0].healthCheck"},
    {"Unavailable", Error{Code::Unavailable, "state file is read-only"}, "",
     "fixtures/x.json: state file is read-only", Code::Unavailable, ""},
    // An ECS item's error keeps its AWS exception name in the text, under the item's path.
    {"EcsInvalidParameter", ecs::invalid_parameter("desiredCount must be 0 or more."),
     "ecsServices[0]",
     "fixtures/x.json: ecsServices[0]: InvalidParameterException: desiredCount must be 0 or more.",
     Code::InvalidArgument, "ecsServices[0]"},
    {"EcsClient", ecs::client_error("Container list cannot be empty."), "taskDefinitions[2]",
     "fixtures/x.json: taskDefinitions[2]: ClientException: Container list cannot be empty.",
     Code::InvalidArgument, "taskDefinitions[2]"},
    {"EcsNotFound", ecs::ecs_error("ClusterNotFoundException", "Cluster not found."),
     "ecsServices[1].cluster",
     "fixtures/x.json: ecsServices[1].cluster: ClusterNotFoundException: Cluster not found.",
     Code::NotFound, "ecsServices[1].cluster"},
    {"UntypedUnderAPath", invalid("bad"), "ecsServices[3]", "fixtures/x.json: ecsServices[3]: bad",
     Code::InvalidArgument, "ecsServices[3]"},
};

class FixtureErrorTest : public ::testing::TestWithParam<Case> {};

TEST_P(FixtureErrorTest, NamesFilePathTypeAndReason) {
  const Case& c = GetParam();
  const Error out = fixture_error("fixtures/x.json", c.error, c.path);
  EXPECT_EQ(out.message, c.message);
  EXPECT_EQ(out.code, c.code);
  EXPECT_EQ(out.field, c.field);
  EXPECT_EQ(out.aws_type, c.error.aws_type);
}

INSTANTIATE_TEST_SUITE_P(Table, FixtureErrorTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FixtureErrorTest, FixtureInvalidIsAFieldErrorOfTheFile) {
  const Error e = fixture_invalid("a.json", "services[0].name", "required");
  EXPECT_EQ(e.message, "a.json: services[0].name: required");
  EXPECT_EQ(e.field, "services[0].name");
  EXPECT_EQ(e.code, Code::InvalidArgument);
}

}  // namespace
}  // namespace emu::core
