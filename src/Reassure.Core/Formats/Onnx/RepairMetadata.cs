using System.Text.Json.Nodes;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Formats.Onnx;

/// <summary>
/// The patches of a repaired network as JSON, stored in the exported ONNX file's <c>metadata_props</c> under
/// <see cref="Key"/>, so that the file alone is enough to rebuild the repaired network in double and to re-verify it
/// (ONNX Runtime ignores metadata). Per patch: region pattern (hex of its bits), the max-pool winners (flat hidden indices; null without max pools), split rows, support pattern flag,
/// support rows, gamma, the gate's dead zone (absent: 0, files written before it), the support's box part (feature-space repair; absent: none), d, C, max-norm, and the specification it was built for (bounds +-infinity as null).
/// </summary>
internal static class RepairMetadata
{
    public const string Key = "reassure.repair";

    public static string Write(RepairedNetwork network, IReadOnlyList<LinearSpecification?>? specs)
    {
        var patches = new JsonArray();
        for (int l = 0; l < network.Patches.Count; l++)
        {
            var gp = network.Patches[l];
            patches.Add(new JsonObject
            {
                ["pattern"] = Hex(gp.Region.Pattern),
                ["winners"] = gp.Region.Pattern.Winners is { } winners ? new JsonArray(winners.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()) : null,
                ["regionRows"] = Rows(gp.Region.ExtraRows),
                ["supportPattern"] = gp.Support.Pattern is not null,
                ["supportRows"] = Rows(gp.Support.Rows),
                ["gamma"] = gp.Support.Gamma,
                ["deadZone"] = gp.Support.DeadZone,
                ["supportBox"] = gp.Support.Box is { } box
                    ? new JsonObject { ["center"] = Numbers(box.Center), ["halfWidth"] = Numbers(box.HalfWidth), ["scale"] = Numbers(box.Scale) }
                    : null,
                ["d"] = Numbers(gp.Patch.D),
                ["c"] = gp.Patch.C is null ? null : Numbers(gp.Patch.C),
                ["norm"] = gp.Norm,
                ["spec"] = specs is not null && l < specs.Count && specs[l] is { } s ? Spec(s) : null,
            });
        }
        return new JsonObject
        {
            ["version"] = 2, // 2: supports carry their dead zone
            ["domain"] = new JsonObject { ["lower"] = Numbers(network.Domain.Lower), ["upper"] = Numbers(network.Domain.Upper) },
            ["patches"] = patches,
        }.ToJsonString();
    }

    public static (RepairedNetwork Network, IReadOnlyList<LinearSpecification?> Specs) Read(string json, Network original, string source)
    {
        try
        {
            var root = JsonNode.Parse(json)!.AsObject();
            var domain = new InputBox(Finite(Doubles(root["domain"]!["lower"]!), "domain lower"), Finite(Doubles(root["domain"]!["upper"]!), "domain upper"));
            var list = new List<(LinearRegion, AffinePatch, Support, double)>();
            var specs = new List<LinearSpecification?>();
            foreach (var node in root["patches"]!.AsArray())
            {
                var p = node!.AsObject();
                var pattern = Pattern(p["pattern"]!.GetValue<string>(), original.HiddenCount);
                if (original.Pools is { } pools)
                {
                    // A max pool's winners are part of the region (method.md §12); absent only in files of networks without one.
                    if (p["winners"] is not JsonArray winners) throw new InvalidDataException("a patch of a network with max pools has no winners");
                    pattern = pattern.WithWinners(pools, winners.Select(v => v!.GetValue<int>()).ToArray());
                }
                else if (p["winners"] is JsonArray) throw new InvalidDataException("a patch has max-pool winners, the network has no max pool");
                var region = new LinearRegion(original, pattern, domain, ReadRows(p["regionRows"]!));
                var patch = new AffinePatch(original.InputSize, p["c"] is JsonArray c ? Finite(Doubles(c), "c") : null, Finite(Doubles(p["d"]!), "d"));
                double gamma = Finite(p["gamma"]!.GetValue<double>(), "gamma");
                double deadZone = p["deadZone"] is JsonNode dz ? Finite(dz.GetValue<double>(), "deadZone") : 0; // files without it: method.md §4's gate, no dead zone
                if (!(gamma > 0) || !(deadZone >= 0 && deadZone < 1)) throw new InvalidDataException($"gamma {gamma} or dead zone {deadZone} out of range");
                var box = p["supportBox"] is JsonObject sb
                    ? new SupportBox(Finite(Doubles(sb["center"]!), "box center"), Finite(Doubles(sb["halfWidth"]!), "box halfWidth"), Finite(Doubles(sb["scale"]!), "box scale"))
                    : null; // absent: no box part (every file written before feature-space repair)
                var support = new Support(p["supportPattern"]!.GetValue<bool>() ? pattern : null, ReadRows(p["supportRows"]!), gamma, deadZone, box);
                list.Add((region, patch, support, Finite(p["norm"]!.GetValue<double>(), "norm")));
                specs.Add(p["spec"] is JsonObject s ? ReadSpec(s) : null);
            }
            return (new RepairedNetwork(original, domain, list), specs);
        }
        catch (Exception e) when (e is not ReassureException)
        {
            throw new ReassureException(ErrorCodes.OnnxBadTensor, $"the repair metadata '{Key}' cannot be read: {e.Message}", source, e);
        }
    }

    private static string Hex(ActivationPattern pattern)
    {
        var bytes = new byte[(pattern.Count + 7) / 8];
        for (int j = 0; j < pattern.Count; j++) if (pattern[j]) bytes[j >> 3] |= (byte)(1 << (j & 7));
        return Convert.ToHexStringLower(bytes);
    }

    private static ActivationPattern Pattern(string hex, int count)
    {
        var bytes = Convert.FromHexString(hex);
        if (bytes.Length != (count + 7) / 8) throw new InvalidDataException($"pattern has {bytes.Length * 8} bits, the network {count} hidden neurons");
        return ActivationPattern.FromBits(Enumerable.Range(0, count).Select(j => (bytes[j >> 3] & (1 << (j & 7))) != 0).ToArray());
    }

    private static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(v => (JsonNode?)(double.IsFinite(v) ? JsonValue.Create(v) : null)).ToArray());

    private static double[] Doubles(JsonNode node) => node.AsArray().Select(v => v is null ? double.NaN : v.GetValue<double>()).ToArray();

    private static JsonArray Rows(IEnumerable<HalfSpace> rows) =>
        new(rows.Select(r => (JsonNode?)new JsonObject { ["a"] = Numbers(r.A), ["b"] = r.B }).ToArray());

    private static List<HalfSpace> ReadRows(JsonNode node) =>
        node.AsArray().Select(r => new HalfSpace(Finite(Doubles(r!["a"]!), "row a"), Finite(r["b"]!.GetValue<double>(), "row b"))).ToList();

    /// <summary>Every value finite, else the metadata is not one this exporter writes (non-finite numbers are written as null only in spec bounds).</summary>
    private static double[] Finite(double[] values, string what)
    {
        foreach (var v in values) Finite(v, what);
        return values;
    }

    private static double Finite(double value, string what) =>
        double.IsFinite(value) ? value : throw new InvalidDataException($"{what} holds a non-finite number");

    private static JsonObject Spec(LinearSpecification s)
    {
        var p = new JsonArray();
        for (int r = 0; r < s.Rows; r++) p.Add(Numbers(Enumerable.Range(0, s.Outputs).Select(i => s.P[r, i])));
        return new JsonObject { ["p"] = p, ["lower"] = Numbers(s.Lower), ["upper"] = Numbers(s.Upper) };
    }

    private static LinearSpecification ReadSpec(JsonObject s)
    {
        var rows = s["p"]!.AsArray().Select(r => Doubles(r!)).ToArray();
        int m = rows.Length == 0 ? 0 : rows[0].Length;
        var p = new double[rows.Length, m];
        for (int r = 0; r < rows.Length; r++) for (int i = 0; i < m; i++) p[r, i] = rows[r][i];
        var lower = Doubles(s["lower"]!).Select(v => double.IsNaN(v) ? double.NegativeInfinity : v).ToArray();
        var upper = Doubles(s["upper"]!).Select(v => double.IsNaN(v) ? double.PositiveInfinity : v).ToArray();
        return new LinearSpecification(p, lower, upper);
    }
}
