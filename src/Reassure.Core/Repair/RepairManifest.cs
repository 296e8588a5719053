using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reassure.Repair;

/// <summary>
/// The JSON manifest written beside a repaired model: totals, timings and, per patch, the region (pattern hash),
/// gamma, norm, the inputs it fixes and whether the independent LP check passed. "onnxSha256" is the SHA-256 (lower-case
/// hex) of the ONNX file it describes: the manifest is renamed into place after the ONNX, so a reader that finds a
/// different hash (<see cref="CheckPair"/>, RSR1072) knows the pair is torn (an interrupted or partial write).
/// </summary>
public static class RepairManifest
{
    /// <summary>
    /// The manifest of a result as indented JSON; <paramref name="onnxSha256"/> is the hash of the ONNX it describes;
    /// <paramref name="strippedOutputOperator"/> names a trailing Softmax/LogSoftmax the import left out (the repair
    /// worked on the scores it reads; the file still ends in it).
    /// </summary>
    public static string ToJson(RepairResult result, string? model = null, string? onnxSha256 = null, string? strippedOutputOperator = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var root = new JsonObject
        {
            ["model"] = model,
            ["onnxSha256"] = onnxSha256,
            ["strippedOutputOperator"] = strippedOutputOperator,
            ["strippedOutputNote"] = strippedOutputOperator is null ? null
                : $"the trailing {strippedOutputOperator} was left out: specifications were checked on the scores it reads (argmax/argmin decisions are the same with it); the repaired file still ends in it",
            ["total"] = result.Inputs.Count,
            ["fixed"] = result.FixedCount,
            ["patches"] = result.Patches.Count,
            ["seconds"] = Math.Round(result.Timings.Total.TotalSeconds, 3),
            ["linearPrograms"] = result.Timings.LinearPrograms,
            ["simplexLinearPrograms"] = result.Timings.SimplexLinearPrograms,
            ["glopFallbacks"] = result.Timings.GlopFallbacks,
            ["timings"] = new JsonObject
            {
                ["regions"] = Math.Round(result.Timings.Regions.TotalSeconds, 3),
                ["patches"] = Math.Round(result.Timings.Patches.TotalSeconds, 3),
                ["soundness"] = Math.Round(result.Timings.Soundness.TotalSeconds, 3),
                ["verify"] = Math.Round(result.Timings.Verify.TotalSeconds, 3),
            },
            ["patchList"] = new JsonArray(result.Patches.Select(p => (JsonNode)new JsonObject
            {
                ["index"] = p.Index,
                ["region"] = p.PatternHash,
                ["gamma"] = p.Gamma,
                ["norm"] = p.Norm,
                ["splitRows"] = p.SplitRows,
                ["verified"] = p.Verified,
                ["worstSlack"] = double.IsFinite(p.WorstSlack) ? p.WorstSlack : null,
                ["check"] = new JsonObject { ["certified"] = p.RowsCertified, ["buildStop"] = p.RowsByBuildStop, ["linearPrograms"] = p.CheckLinearPrograms },
                ["inputs"] = new JsonArray(p.Inputs.Select(i => (JsonNode)JsonValue.Create(result.Inputs[i].Id ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture))!).ToArray()),
            }).ToArray()),
            ["inputs"] = new JsonArray(result.Inputs.Select(s => (JsonNode)new JsonObject
            {
                ["id"] = s.Id ?? s.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["fixed"] = s.Fixed,
                ["fixedFloat32"] = s.FixedFloat32,
                ["patch"] = s.Patch,
                ["error"] = s.ErrorCode,
                ["message"] = s.Message,
            }).ToArray()),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>R.onnx -> R.manifest.json beside it.</summary>
    public static string PathFor(string onnxPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(onnxPath))!, Path.GetFileNameWithoutExtension(onnxPath) + ".manifest.json");

    /// <summary>SHA-256 of <paramref name="bytes"/>, lower-case hex.</summary>
    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    /// <summary>
    /// Checks the manifest beside <paramref name="onnxPath"/> (<see cref="PathFor"/>) when there is one and it carries
    /// "onnxSha256": RSR1072 when the hash differs from the ONNX file's or the manifest is not JSON. No manifest, or one
    /// without the field (older files), passes.
    /// </summary>
    public static void CheckPair(string onnxPath)
    {
        var manifest = PathFor(onnxPath);
        if (!File.Exists(manifest) || !File.Exists(onnxPath)) return;
        string? expected;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
            expected = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("onnxSha256", out var h) && h.ValueKind == JsonValueKind.String
                ? h.GetString() : null;
        }
        catch (JsonException e)
        {
            throw new ReassureException(ErrorCodes.TornOutputPair, $"the manifest beside the model is not valid JSON ({e.Message}); expected the manifest written with the model", manifest, e);
        }
        if (expected is null) return;
        var actual = Sha256(File.ReadAllBytes(onnxPath));
        if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
            throw new ReassureException(ErrorCodes.TornOutputPair,
                $"the model's SHA-256 is {actual} but its manifest {Path.GetFileName(manifest)} records {expected}: the pair is torn (an interrupted write or a file replaced by hand); expected the ONNX and the manifest from the same run",
                onnxPath);
    }
}
