using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Patching;

/// <summary>
/// The support network g_R of a region (method.md §4): 1 on R, 0 once any row is violated by more than 1/gamma,
/// continuous and piecewise linear between.
/// <code>
///   t_j(x) = relu(gamma u_j + 1) - relu(gamma u_j) = clamp(gamma u_j + 1, 0, 1)
///   g_R(x) = relu( sum_j t_j(x) - K + 1 ) = relu( 1 - sum_j (1 - t_j(x)) )
/// </code>
/// where u_j is the slack of row j: for a pattern row u_j = s'_j z_j(x), read from the network's own
/// pre-activation (s' = +1 active, -1 inactive); for an explicit row u_j = b_j - a_j . x. The clamp and deficit forms
/// are the same function and stay exact in float32: relu(u+1) - relu(u) loses the 1 once u > 2^24, and a sum of K ones
/// minus K - 1 rounds, while every deficit inside the region is exactly 0.
/// </summary>
public sealed class Support
{
    /// <summary>Creates a support from a pattern (null: no pattern rows) and explicit rows.</summary>
    public Support(ActivationPattern? pattern, IReadOnlyList<HalfSpace> rows, double gamma)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gamma);
        Pattern = pattern;
        Rows = rows;
        Gamma = gamma;
    }

    /// <summary>The activation pattern whose neuron signs gate the patch, or null.</summary>
    public ActivationPattern? Pattern { get; }

    /// <summary>Explicit rows a . x &lt;= b.</summary>
    public IReadOnlyList<HalfSpace> Rows { get; }

    /// <summary>Sharpness gamma.</summary>
    public double Gamma { get; }

    /// <summary>K, the number of rows.</summary>
    public int RowCount => (Pattern?.Count ?? 0) + Rows.Count;

    /// <summary>The same support with another gamma.</summary>
    public Support WithGamma(double gamma) => new(Pattern, Rows, gamma);

    /// <summary>
    /// g_R at x, given the network's pre-activations z(x) (flat, <c>[H]</c>), in the deficit form
    /// g = max(0, 1 - sum_j (1 - t_j)) with 1 - t_j = clamp(-gamma u_j, 0, 1): exactly 1 where every row holds.
    /// Stops as soon as the deficit reaches 1.
    /// </summary>
    public double Gate(ReadOnlySpan<double> x, ReadOnlySpan<double> z)
    {
        double deficit = 0;
        if (Pattern is not null)
        {
            for (int j = 0; j < z.Length; j++)
            {
                double u = Pattern[j] ? z[j] : -z[j];
                if (u >= 0) continue;
                deficit += Math.Min(-Gamma * u, 1);
                if (deficit >= 1) return 0;
            }
        }
        foreach (var row in Rows)
        {
            double slack = row.Slack(x);
            if (slack >= 0) continue;
            deficit += Math.Min(-Gamma * slack, 1);
            if (deficit >= 1) return 0;
        }
        return 1 - deficit;
    }

    /// <summary>
    /// The smallest gamma at which g_R(x) = 0: 1 / (largest violation among the rows). Infinity when x meets every row
    /// (then no gamma separates it).
    /// </summary>
    public double GammaToExclude(ReadOnlySpan<double> x, ReadOnlySpan<double> z)
    {
        double worst = 0;
        if (Pattern is not null)
        {
            for (int j = 0; j < z.Length; j++)
            {
                double u = Pattern[j] ? z[j] : -z[j];
                if (u < 0) worst = Math.Max(worst, -u);
            }
        }
        foreach (var row in Rows) worst = Math.Max(worst, -row.Slack(x));
        return worst > 0 ? 1 / worst : double.PositiveInfinity;
    }
}
