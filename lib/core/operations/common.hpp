// Pieces the operations share. Private to lib/core/operations.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "mlc/artifact_store.hpp"
#include "mlc/catalog.hpp"
#include "mlc/compute.hpp"
#include "mlc/operations.hpp"

namespace mlc::detail {

ArtifactStore artifact_store(const Session& session);

TransitionNote note_for(const Session& session, std::string reason, std::string target = {});

// The version as the compute backend needs it, with its checkpoint verified against the store.
TrainedModel trained_model(const Session& session, const VersionRecord& version);

// The data a version is evaluated or run on: the test split of the data it was trained on, or the
// files the user named (--data, --labels). Refuses data that changed since training, because the
// held-out split of a changed file no longer matches what the model never saw.
nlohmann::json evaluation_data(const VersionRecord& version,
                               const std::optional<std::filesystem::path>& data,
                               const std::optional<std::filesystem::path>& labels);

// Refuses `actual` inputs whose sha256 differs from what the version recorded for the same role.
void check_unchanged_inputs(const VersionRecord& version, const std::vector<DataFile>& actual);

// The reference to exactly this version, to read it again under a transaction's lock.
Reference reference_to(const VersionRecord& version);

// "NAME:VERSION", for messages and the history.
std::string subject(const VersionRecord& version);

// The commit checked out in the working directory (read from .git, no git process), or "".
std::string git_commit_of_working_directory();

}  // namespace mlc::detail
