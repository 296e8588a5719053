using Reassure.Networks;
using Reassure.Regions;
using Reassure.Specifications;

namespace Reassure.Repair;

/// <summary>One region to patch: its polytope (pattern plus split rows), the specification and the inputs in it.</summary>
internal sealed record RepairJob(LinearRegion Region, LinearSpecification Spec, IReadOnlyList<int> Inputs)
{
    public int Order => Inputs[0];
}

/// <summary>
/// Completeness (method.md §6): buggy inputs grouped by region; where one region holds inputs with different
/// specifications, it is split by the perpendicular bisector of two of them, recursively, until every cell holds
/// one specification. The same input with two specifications cannot be split: those inputs get RSR1050.
/// </summary>
internal static class RepairPlan
{
    public static List<RepairJob> Build(
        Network network, InputBox domain, IReadOnlyList<BuggyInput> inputs, IReadOnlyList<LinearSpecification?> specs,
        IReadOnlyList<ActivationPattern?> patterns, Dictionary<int, (string Code, string Message)> errors)
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
            Split(new LinearRegion(network, pattern, domain), live, inputs, specs, jobs);
        }
        jobs.Sort((x, y) => x.Order.CompareTo(y.Order));
        return jobs;
    }

    private static void Split(LinearRegion region, List<int> members, IReadOnlyList<BuggyInput> inputs, IReadOnlyList<LinearSpecification?> specs, List<RepairJob> jobs)
    {
        int first = members[0];
        int other = members.FirstOrDefault(i => !specs[i]!.SameAs(specs[first]!), -1);
        if (other < 0)
        {
            jobs.Add(new RepairJob(region, specs[first]!, members));
            return;
        }
        var cut = HalfSpace.Bisector(inputs[first].Input, inputs[other].Input);
        var inside = members.Where(i => cut.Slack(inputs[i].Input) >= 0).ToList();
        var outside = members.Where(i => cut.Slack(inputs[i].Input) < 0).ToList();
        Split(region.Cut(cut), inside, inputs, specs, jobs);
        Split(region.Cut(cut.Complement()), outside, inputs, specs, jobs);
    }

    private static string Name(IReadOnlyList<BuggyInput> inputs, int i) => inputs[i].Id ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
