using Reassure.Patching;
using Reassure.Specifications;

namespace Reassure.Repair;

/// <summary>
/// Soundness, enforced (method.md §6): after the patches are built, every buggy input is evaluated; where one
/// fails, it is because a later patch's support leaks onto it (inside its own region the gated differences
/// telescope to its own patch). The gamma of each leaking support is raised to at least twice the value that
/// switches it off at that input (1 / the largest row violation there), those patches are rebuilt, and the check
/// runs again until every input passes or gamma reaches its limit.
/// </summary>
internal static class SoundnessLoop
{
    private const int MaxRounds = 64;

    public static RepairedNetwork Enforce(
        RepairedNetwork repaired, IReadOnlyList<BuggyInput> inputs, IReadOnlyList<LinearSpecification?> specs,
        IReadOnlyList<int> candidates, IReadOnlyList<int?> ownPatch, RepairOptions options, CancellationToken ct)
    {
        for (int round = 0; round < MaxRounds; round++)
        {
            ct.ThrowIfCancellationRequested();
            var raises = new SortedDictionary<int, double>();
            foreach (int i in candidates)
            {
                var y = repaired.Evaluate(inputs[i].Input, out var gates);
                if (specs[i]!.Slack(y) >= 0) continue;
                CollectRaises(repaired, inputs[i].Input, gates, ownPatch[i], options, raises, nearMiss: false);
            }
            if (raises.Count == 0) return repaired;
            foreach (var (p, gamma) in raises) repaired = repaired.WithGamma(p, gamma);
        }
        return repaired;
    }

    public static (RepairedNetwork Network, bool[] Fixed) EnforceFloat32(
        RepairedNetwork repaired, IReadOnlyList<BuggyInput> inputs, IReadOnlyList<LinearSpecification?> specs,
        IReadOnlyList<int> candidates, IReadOnlyList<int?> ownPatch, RepairOptions options, IFloat32Evaluator evaluator, CancellationToken ct)
    {
        var xs = candidates.Select(i => inputs[i].Input).ToList();
        var ok = new bool[candidates.Count];
        for (int round = 0; round < 8; round++)
        {
            ct.ThrowIfCancellationRequested();
            var ys = evaluator.Evaluate(repaired, xs);
            var raises = new SortedDictionary<int, double>();
            for (int k = 0; k < candidates.Count; k++)
            {
                int i = candidates[k];
                ok[k] = inputs[i].Spec.IsMetInFloat32(ys[k]);
                if (ok[k]) continue;
                var y = repaired.Evaluate(inputs[i].Input, out var gates);
                CollectRaises(repaired, inputs[i].Input, gates, ownPatch[i], options, raises, nearMiss: true);
            }
            if (raises.Count == 0) break;
            foreach (var (p, gamma) in raises) repaired = repaired.WithGamma(p, gamma);
            repaired = Enforce(repaired, inputs, specs, candidates, ownPatch, options, ct);
        }
        return (repaired, ok);
    }

    private static void CollectRaises(RepairedNetwork repaired, double[] x, double[] gates, int? own, RepairOptions options, SortedDictionary<int, double> raises, bool nearMiss)
    {
        var z = repaired.Original.PreActivations(x);
        int from = own is int o ? o + 1 : 0; // supports before the own patch are covered by the suffix max anyway
        for (int l = from; l < repaired.Patches.Count; l++)
        {
            var support = repaired.Patches[l].Support;
            double exclude = support.GammaToExclude(x, z);
            bool leaking = gates[l] > 0 || (nearMiss && exclude * 1.01 > support.Gamma);
            if (!leaking || double.IsInfinity(exclude)) continue;
            double gamma = Math.Min(options.MaxGamma, Math.Max(2 * support.Gamma, 2 * exclude));
            if (gamma <= support.Gamma) continue;
            raises[l] = Math.Max(raises.GetValueOrDefault(l), gamma);
        }
    }
}
