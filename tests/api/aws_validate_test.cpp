// The model-driven validator, table-driven against the shapes generated from the installed
// botocore models: each kind of constraint in AWS's own words, the "N validation errors" form,
// unknown members ignored, and every operation of both models present in the generated table with
// a minimal valid input (its required members) accepted.

#include "api/aws/aws_validate.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <ostream>
#include <set>
#include <string>

#include "tests/support/aws_model_inputs.hpp"

namespace emu::api::aws {
namespace {

using nlohmann::json;

const model::Operation& op(const model::ServiceModel& m, std::string_view name) {
  const auto* o = m.operation(name);
  if (!o) throw std::runtime_error("no operation " + std::string(name));
  return *o;
}

std::string message(const model::ServiceModel& m, std::string_view name, const json& input) {
  return validation_message(validate(m, op(m, name), input));
}

struct Case {
  const char* name;
  const model::ServiceModel* model;
  const char* operation;
  json input;
  const char* expected;  ///< the whole message; "" when the input is valid
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

const std::string k256(256, 'a');

const Case kCases[] = {
    {"CloudMapValid", &model::kCloudMapModel, "CreateHttpNamespace", {{"Name", "web"}}, ""},
    {"CloudMapRequiredMissing", &model::kCloudMapModel, "CreateHttpNamespace", json::object(),
     "1 validation error detected: Value null at 'Name' failed to satisfy constraint: Member "
     "must not be null"},
    {"NullIsAbsent",
     &model::kCloudMapModel,
     "CreateHttpNamespace",
     {{"Name", nullptr}},
     "1 validation error detected: Value null at 'Name' failed to satisfy constraint: Member "
     "must not be null"},
    {"UnknownMembersIgnored",
     &model::kCloudMapModel,
     "CreateHttpNamespace",
     {{"Name", "web"}, {"SomethingNewer", {{"x", 1}}}},
     ""},
    {"StringMaxLength",
     &model::kEcsModel,
     "CreateService",
     {{"serviceName", "web"}, {"clientToken", k256}},
     ""},  // clientToken has no max in the model
    {"PatternBroken",
     &model::kCloudMapModel,
     "CreateHttpNamespace",
     {{"Name", "has space"}},
     "1 validation error detected: Value 'has space' at 'Name' failed to satisfy constraint: "
     "Member must satisfy regular expression pattern: ^[!-~]{1,1024}$"},
    {"EnumBroken",
     &model::kEcsModel,
     "ListServices",
     {{"launchType", "MARS"}},
     "1 validation error detected: Value 'MARS' at 'launchType' failed to satisfy constraint: "
     "Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL]"},
    {"RangeLow",
     &model::kCloudMapModel,
     "ListNamespaces",
     {{"MaxResults", 0}},
     "1 validation error detected: Value '0' at 'MaxResults' failed to satisfy constraint: "
     "Member must have value greater than or equal to 1"},
    {"RangeHigh",
     &model::kCloudMapModel,
     "ListNamespaces",
     {{"MaxResults", 101}},
     "1 validation error detected: Value '101' at 'MaxResults' failed to satisfy constraint: "
     "Member must have value less than or equal to 100"},
    {"NestedListPath",
     &model::kCloudMapModel,
     "ListNamespaces",
     {{"Filters", json::array({{{"Name", "TYPE"}, {"Values", json::array({"HTTP"})}},
                               {{"Name", "COLOR"}, {"Values", json::array({"x"})}}})}},
     "1 validation error detected: Value 'COLOR' at 'Filters.2.member.Name' failed to satisfy "
     "constraint: Member must satisfy enum value set: [TYPE, NAME, HTTP_NAME]"},
    {"TwoErrors",
     &model::kCloudMapModel,
     "CreateService",
     {{"Name", "svc"}, {"Description", std::string(1025, 'd')}, {"Type", "NOPE"}},
     "2 validation errors detected: Value "
     "'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd...' at 'Description' "
     "failed to satisfy constraint: Member must have length less than or equal to 1024; Value "
     "'NOPE' at 'Type' failed to satisfy constraint: Member must satisfy enum value set: "
     "[HTTP]"},
    {"MapValues",
     &model::kCloudMapModel,
     "RegisterInstance",
     {{"ServiceId", "srv-1"}, {"InstanceId", "i-1"}, {"Attributes", {{"AWS_INSTANCE_IPV4", k256}}}},
     ""},  // within the attribute value's max length (1024)
    {"MapValueTooLong",
     &model::kCloudMapModel,
     "RegisterInstance",
     {{"ServiceId", "srv-1"},
      {"InstanceId", "i-1"},
      {"Attributes", {{"AWS_INSTANCE_IPV4", std::string(1025, 'a')}}}},
     "1 validation error detected: Value "
     "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' at "
     "'Attributes.AWS_INSTANCE_IPV4' failed to satisfy constraint: Member must have length less "
     "than or equal to 1024"},
    {"ListMaxLength", &model::kEcsModel, "DescribeTasks", {{"tasks", json::array({"t"})}}, ""},
};

class ValidateTable : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateTable, AnswersAwsText) {
  const auto& c = GetParam();
  EXPECT_EQ(message(*c.model, c.operation, c.input), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Cases, ValidateTable, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

struct TypeCase {
  const char* name;
  json input;
  const char* path;
  const char* rule;
};
std::ostream& operator<<(std::ostream& os, const TypeCase& c) { return os << c.name; }

const TypeCase kTypeCases[] = {
    {"StringGotNumber", {{"Name", 5}}, "Name", "Member must be a string"},
    {"StructureGotString",
     {{"Name", "x"}, {"Tags", json::array({"t"})}},
     "Tags.1.member",
     "Member must be a structure"},
    {"ListGotObject", {{"Name", "x"}, {"Tags", json::object()}}, "Tags", "Member must be a list"},
};

class ValidateTypes : public ::testing::TestWithParam<TypeCase> {};

TEST_P(ValidateTypes, FlagsTheTypeProblem) {
  const auto& c = GetParam();
  const auto v =
      validate(model::kCloudMapModel, op(model::kCloudMapModel, "CreateHttpNamespace"), c.input);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].type);
  EXPECT_EQ(v[0].path, c.path);
  EXPECT_EQ(v[0].rule, c.rule);
}

INSTANTIATE_TEST_SUITE_P(Cases, ValidateTypes, ::testing::ValuesIn(kTypeCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Validate, JavaUnicodeClassPatternsAreNotChecked) {
  // ECS tag keys: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, which std::regex cannot express.
  EXPECT_EQ(message(model::kEcsModel, "TagResource",
                    {{"resourceArn", "arn:aws:ecs:us-east-1:1:cluster/x"},
                     {"tags", json::array({{{"key", "caf\xc3\xa9 k"}, {"value", "v"}}})}}),
            "");
}

TEST(Validate, IntegerOutsideInt32IsATypeProblem) {
  const auto v = validate(model::kEcsModel, op(model::kEcsModel, "ListClusters"),
                          {{"maxResults", 4294967296LL}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].type);
}

TEST(Validate, LengthCountsCharactersNotBytes) {
  // 1024 two-byte characters are 1024 characters: within CreateService's Description max.
  std::string text;
  for (int i = 0; i < 1024; ++i) text += "\xc3\xa9";
  EXPECT_EQ(message(model::kCloudMapModel, "CreateService", {{"Name", "s"}, {"Description", text}}),
            "");
}

// --- the generated table against the installed model -------------------------------------

json load(const char* path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(std::string("cannot read ") + path);
  return json::parse(f);
}

struct ModelCase {
  const char* name;
  const model::ServiceModel* model;
  const char* file;
};
std::ostream& operator<<(std::ostream& os, const ModelCase& c) { return os << c.name; }

class GeneratedModel : public ::testing::TestWithParam<ModelCase> {};

TEST_P(GeneratedModel, HasEveryOperationOfTheInstalledModel) {
  const auto& c = GetParam();
  const json source = load(c.file);
  std::set<std::string> expected;
  for (const auto& [name, _] : source["operations"].items()) expected.insert(name);
  std::set<std::string> generated;
  for (const auto& o : c.model->operations) generated.insert(std::string(o.name));
  EXPECT_EQ(generated, expected);
  EXPECT_EQ(c.model->target_prefix, source["metadata"]["targetPrefix"].get<std::string>());
}

TEST_P(GeneratedModel, AcceptsAMinimalValidInputOfEveryOperation) {
  const auto& c = GetParam();
  for (const auto& o : c.model->operations) {
    const json input = o.input < 0 ? json::object() : minimal_input(*c.model, o.input);
    EXPECT_EQ(validation_message(validate(*c.model, o, input)), "") << o.name << " " << input;
  }
}

TEST_P(GeneratedModel, RejectsAMissingRequiredMemberOfEveryOperation) {
  const auto& c = GetParam();
  for (const auto& o : c.model->operations) {
    if (o.input < 0) continue;
    const auto& shape = c.model->shapes[static_cast<std::size_t>(o.input)];
    for (const auto& mem : c.model->members_of(shape)) {
      if (!mem.required) continue;
      json input = minimal_input(*c.model, o.input);
      input.erase(std::string(mem.name));
      EXPECT_EQ(validation_message(validate(*c.model, o, input)),
                "1 validation error detected: Value null at '" + std::string(mem.name) +
                    "' failed to satisfy constraint: Member must not be null")
          << o.name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, GeneratedModel,
    ::testing::Values(ModelCase{"Ecs", &model::kEcsModel,
                                EMU_BOTOCORE_DATA "/ecs/2014-11-13/service-2.json"},
                      ModelCase{"CloudMap", &model::kCloudMapModel,
                                EMU_BOTOCORE_DATA "/servicediscovery/2017-03-14/service-2.json"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace emu::api::aws
