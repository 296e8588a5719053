using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reassure.Repair;

/// <summary>
/// The JSON manifest written beside a repaired model: totals, timings and, per patch, the region (pattern hash),
/// gamma, norm, the inputs it fixes and whether the independent LP check passed.
/// </summary>
public static class RepairManifest
{
    /// <summary>The manifest of a result as indented JSON.</summary>
    public static string ToJson(RepairResult result, string? model = null)
    {
        var root = new JsonObject
        {
            ["model"] = model,
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
}
