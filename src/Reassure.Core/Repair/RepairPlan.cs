using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Specifications;

namespace Reassure.Repair;

/// <summary>
/// One region to patch: its polytope (pattern plus split rows; with a local box, its domain is the box), the
/// specification, the inputs in it and the support's box part (<see cref="RepairOptions.LocalBox"/>).
/// </summary>
internal sealed record RepairJob(LinearRegion Region, LinearSpecification Spec, IReadOnlyList<int> Inputs, SupportBox? Box = null)
{
    public int Order => Inputs[0];
}

/// <summary>
/// Completeness (method.md §6): buggy inputs grouped by region; where one region holds inputs with different
/// specifications, it is split by the perpendicular bisector of two of them, recursively, until every cell holds
/// one specification. The same input with two specifications cannot be split: those inputs get RSR1050.
/// With a local box r (<see cref="RepairOptions.LocalBox"/>), each region is first cut per point: inputs with the same
/// specification within r/4 of each other share one box of half-width t S around the first (S = max_k |c_k|, the point's
/// largest magnitude; see <see cref="ScaleAt"/>), t = min(r, half the scaled L-infinity distance to every other buggy
/// input), so no other buggy input lies in it; the region's domain is the box (clipped to the domain).
/// </summary>
internal static class RepairPlan
{
    public static List<RepairJob> Build(
        Network network, InputBox domain, IReadOnlyList<BuggyInput> inputs, IReadOnlyList<LinearSpecification?> specs,
        IReadOnlyList<ActivationPattern?> patterns, Dictionary<int, (string Code, string Message)> errors, double? localBox = null)
    {
        var groups = new Dictionary<ActivationPattern, List<int>>();
        var order = new List<ActivationPattern>();
        for (int i = 0; i < inputs.Count; i++)
        {
            if (errors.ContainsKey(i) || patterns[i] is null) continue;
            if (!groups.TryGetValue(patterns[i]!, out var list))
            {
                groups[patterns[i]!] = list = [];
                order.Add(patterns[i]!);
            }
            list.Add(i);
        }
        var jobs = new List<RepairJob>();
        foreach (var pattern in order)
        {
            var members = groups[pattern];
            // Same input, contradicting specifications: no hyperplane separates them.
            for (int a = 0; a < members.Count; a++)
            {
                for (int b = a + 1; b < members.Count; b++)
                {
                    int ia = members[a], ib = members[b];
                    if (!specs[ia]!.SameAs(specs[ib]!) && inputs[ia].Input.AsSpan().SequenceEqual(inputs[ib].Input))
                    {
                        string msg = $"Input {Name(inputs, ia)} and input {Name(inputs, ib)} are the same point but require different outputs; no patch can meet both.";
                        errors[ia] = (ErrorCodes.ConflictingRequirements, msg);
                        errors[ib] = (ErrorCodes.ConflictingRequirements, msg);
                    }
                }
            }
            var live = members.Where(i => !errors.ContainsKey(i)).ToList();
            if (live.Count == 0) continue;
            if (localBox is double r)
            {
                foreach (var cluster in Points(live, inputs, specs, domain, r))
                {
                    var (region, box) = Boxed(network, pattern, domain, inputs, specs, errors, cluster, r);
                    Split(region, cluster, inputs, specs, jobs, box);
                }
                continue;
            }
            Split(new LinearRegion(network, pattern, domain), live, inputs, specs, jobs);
        }
        jobs.Sort((x, y) => x.Order.CompareTo(y.Order));
        return jobs;
    }

    /// <summary>
    /// Members grouped by specification and nearness: an input joins the first group with the same specification whose
    /// first input is within r/4 (scaled L-infinity distance), so near-equal points (one image read from two property
    /// files) share one box.
    /// </summary>
    private static List<List<int>> Points(List<int> members, IReadOnlyList<BuggyInput> inputs, IReadOnlyList<LinearSpecification?> specs, InputBox domain, double r)
    {
        var clusters = new List<List<int>>();
        foreach (int i in members)
        {
            var home = clusters.FirstOrDefault(c => specs[c[0]]!.SameAs(specs[i]!) && Distance(inputs[c[0]].Input, inputs[i].Input, ScaleAt(inputs[c[0]].Input, domain)) <= r / 4);
            if (home is null) clusters.Add([i]);
            else home.Add(i);
        }
        return clusters;
    }

    /// <summary>
    /// The unit of a box around point c: its largest magnitude max_k |c_k| in every dimension (features of one layer share a
    /// scale; the domain's widths are no guide when the domain is a loose bound), or the domain's widths where c is 0.
    /// Dimensions the domain fixes get scale 0.
    /// </summary>
    internal static double[] ScaleAt(double[] c, InputBox domain)
    {
        double size = 0;
        foreach (var v in c) size = Math.Max(size, Math.Abs(v));
        var scale = new double[domain.Dimension];
        for (int k = 0; k < scale.Length; k++)
        {
            double w = domain.Upper[k] - domain.Lower[k];
            scale[k] = w <= 0 ? 0 : size > 0 ? 1 / size : 1 / w;
        }
        return scale;
    }

    /// <summary>max_k |a_k - b_k| s_k.</summary>
    private static double Distance(double[] a, double[] b, double[] scale)
    {
        double d = 0;
        for (int k = 0; k < a.Length; k++) d = Math.Max(d, Math.Abs(a[k] - b[k]) * scale[k]);
        return d;
    }

    /// <summary>The region of <paramref name="pattern"/> cut to the local box of a point, and the box as a support part.</summary>
    private static (LinearRegion Region, SupportBox Box) Boxed(Network network, ActivationPattern pattern, InputBox domain, IReadOnlyList<BuggyInput> inputs,
        IReadOnlyList<LinearSpecification?> specs, Dictionary<int, (string Code, string Message)> errors, List<int> cluster, double r)
    {
        int n = domain.Dimension;
        var c = inputs[cluster[0]].Input;
        var scale = ScaleAt(c, domain);
        // Every member inside (they are within r/4), every other buggy input outside: half the distance to the nearest.
        double t = r;
        for (int j = 0; j < inputs.Count; j++)
        {
            if (cluster.Contains(j) || errors.ContainsKey(j) || specs[j] is null || inputs[j].Input.Length != n) continue;
            double dist = Distance(inputs[j].Input, c, scale);
            if (dist > 0) t = Math.Min(t, dist / 2);
        }
        t = Math.Max(t, cluster.Max(i => Distance(inputs[i].Input, c, scale)));
        var half = new double[n];
        var lo = new double[n];
        var hi = new double[n];
        for (int k = 0; k < n; k++)
        {
            half[k] = scale[k] > 0 ? t / scale[k] : 0;
            lo[k] = Math.Max(domain.Lower[k], c[k] - half[k]);
            hi[k] = Math.Min(domain.Upper[k], c[k] + half[k]);
        }
        return (new LinearRegion(network, pattern, new InputBox(lo, hi)), new SupportBox((double[])c.Clone(), half, scale));
    }

    private static void Split(LinearRegion region, List<int> members, IReadOnlyList<BuggyInput> inputs, IReadOnlyList<LinearSpecification?> specs, List<RepairJob> jobs, SupportBox? box = null)
    {
        int first = members[0];
        int other = members.FirstOrDefault(i => !specs[i]!.SameAs(specs[first]!), -1);
        if (other < 0)
        {
            jobs.Add(new RepairJob(region, specs[first]!, members, box));
            return;
        }
        var cut = HalfSpace.Bisector(inputs[first].Input, inputs[other].Input);
        var inside = members.Where(i => cut.Slack(inputs[i].Input) >= 0).ToList();
        var outside = members.Where(i => cut.Slack(inputs[i].Input) < 0).ToList();
        Split(region.Cut(cut), inside, inputs, specs, jobs, box);
        Split(region.Cut(cut.Complement()), outside, inputs, specs, jobs, box);
    }

    private static string Name(IReadOnlyList<BuggyInput> inputs, int i) => inputs[i].Id ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
