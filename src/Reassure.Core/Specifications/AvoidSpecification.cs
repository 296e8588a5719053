using System.Globalization;
using Reassure.Networks;

namespace Reassure.Specifications;

/// <summary>How the label that must win is chosen when a row only says which label to avoid (method.md §10).</summary>
public enum AvoidTargetRule
{
    /// <summary>t = (k - 1 + m) mod m: the label before k, m - 1 for k = 0 (REASSURE's watermark experiment).</summary>
    Previous,

    /// <summary>The best label other than k at the point by the original network's output (ties: the lowest index).</summary>
    BestOther,
}

/// <summary>
/// "Must not predict label k" as a specification the engine repairs (method.md §10): the avoided label k and a rule give a
/// target t != k, and the row's region must then satisfy "t wins by the margin" (a <see cref="ClassificationSpecification"/>).
/// "Not k" alone is a union of m - 1 half-space systems, not one convex set ql &lt;= P y &lt;= qu, so no single affine patch is
/// defined by it; choosing t makes the specification convex and keeps the repair provable. A row whose point already
/// does not predict k still gets the specification: the guarantee is over the whole region, not only at the point.
/// </summary>
public static class AvoidSpecification
{
    /// <summary>The target label t for avoided label <paramref name="avoid"/> among <paramref name="outputs"/> outputs.</summary>
    /// <param name="avoid">The label k to avoid, 0 &lt;= k &lt; m.</param>
    /// <param name="outputs">The number of outputs m (at least 2).</param>
    /// <param name="rule">The rule.</param>
    /// <param name="y">The original network's output at the point; needed by <see cref="AvoidTargetRule.BestOther"/>.</param>
    /// <param name="argMin">Whether the predicted label is the argmin (the best other label is then the smallest output).</param>
    public static int Target(int avoid, int outputs, AvoidTargetRule rule, ReadOnlySpan<double> y = default, bool argMin = false)
    {
        if (outputs < 2)
            throw new ReassureException(ErrorCodes.BadSpecification, $"A label can only be avoided when the network has at least 2 outputs; it has {outputs}.");
        if (avoid < 0 || avoid >= outputs)
            throw new ReassureException(ErrorCodes.BadSpecification, string.Create(CultureInfo.InvariantCulture,
                $"Avoided label {avoid} is not an output index of a network with {outputs} outputs (expected 0..{outputs - 1})."));
        switch (rule)
        {
            case AvoidTargetRule.Previous:
                return (avoid - 1 + outputs) % outputs;
            case AvoidTargetRule.BestOther:
                if (y.Length != outputs)
                    throw new ReassureException(ErrorCodes.BadSpecification, string.Create(CultureInfo.InvariantCulture,
                        $"The best-other rule needs the network's {outputs} outputs at the point; got {y.Length}."));
                int best = -1;
                for (int i = 0; i < outputs; i++)
                {
                    if (i == avoid) continue;
                    if (double.IsNaN(y[i]))
                        throw new ReassureException(ErrorCodes.BadSpecification, "The network's output at the point is NaN; no best other label.");
                    // Strictly better only: ties keep the lowest index.
                    if (best < 0 || (argMin ? y[i] < y[best] : y[i] > y[best])) best = i;
                }
                return best;
            default:
                throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown avoid target rule.");
        }
    }

    /// <summary>
    /// The specification for input <paramref name="x"/> that must not get label <paramref name="avoid"/>: "t wins by
    /// <paramref name="margin"/>" with t from <paramref name="rule"/> (the best-other rule evaluates
    /// <paramref name="network"/>, the original network, at x in double).
    /// </summary>
    public static ClassificationSpecification Create(Network network, ReadOnlySpan<double> x, int avoid, AvoidTargetRule rule, double margin = 1e-3, bool argMin = false)
    {
        ArgumentNullException.ThrowIfNull(network);
        int m = network.OutputSize;
        if (rule == AvoidTargetRule.BestOther)
        {
            if (x.Length != network.InputSize)
                throw new ReassureException(ErrorCodes.BadSpecification, string.Create(CultureInfo.InvariantCulture,
                    $"The input has {x.Length} values; the network takes {network.InputSize}."));
            return new ClassificationSpecification(Target(avoid, m, rule, network.Evaluate(x), argMin), margin, argMin);
        }
        return new ClassificationSpecification(Target(avoid, m, rule), margin, argMin);
    }

    /// <summary>The rule's command-line name: previous or best-other.</summary>
    public static string Name(AvoidTargetRule rule) => rule switch
    {
        AvoidTargetRule.Previous => "previous",
        AvoidTargetRule.BestOther => "best-other",
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown avoid target rule."),
    };

    /// <summary>The rule named <paramref name="name"/> (previous or best-other, case-sensitive); null for any other name.</summary>
    public static AvoidTargetRule? Parse(string? name) => name switch
    {
        "previous" => AvoidTargetRule.Previous,
        "best-other" => AvoidTargetRule.BestOther,
        _ => null,
    };
}
