using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Patching;

/// <summary>
/// The support network g_R of a region (method.md §4): 1 on R, 0 once any row is violated by more than 1/gamma,
/// continuous and piecewise linear between.
/// <code>
///   t_j(x) = relu(gamma u_j + 1) - relu(gamma u_j) = clamp(gamma u_j + 1, 0, 1)
///   D(x)   = sum_j (1 - t_j(x))                       (the deficit; 0 on R)
///   g_R(x) = clamp( (1 - D(x)) / (1 - delta), 0, 1 )  = min(1, relu(1 - D) / (1 - delta))
/// </code>
/// where u_j is the slack of row j: for a pattern row u_j = s'_j z_j(x), read from the network's own
/// pre-activation (s' = +1 active, -1 inactive); for an explicit row u_j = b_j - a_j . x. A pattern with max-pool
/// winners (method.md §12) adds one row per window whose winner w is active: u_o = z_w(x) - max over the window of
/// z(x), 0 exactly where w still wins and -(largest violation z_k - z_w) otherwise, so the region's winner rows are
/// gated like its signs (one term per window instead of one per pair: clamp(gamma (max_k z_k - z_w), 0, 1) is 1 as
/// soon as any pair is violated by 1/gamma, and 0 on the region).
/// <para>
/// delta is a dead zone: g = 1 wherever D &lt;= delta. With delta = 0 this is method.md §4's
/// relu(sum_j t_j - K + 1) = relu(1 - D) exactly. The zero set {D &gt;= 1} and the range [0, 1] are the same for every
/// delta, so every argument about supports (the band where g &gt; 0, the suffix maximum's convex combinations) holds
/// unchanged; only the values in the band move up. The dead zone is what lets ONNX Runtime compute D in float32 as
/// one signed product over the H neurons, D = (|q|_1 - s' . q) / 2 with q = clamp(gamma z, -1, 1), instead of a sum of
/// non-negative terms over 2H (PatchGraph): the two float32 sums differ by at most about H^2 2^-24, so below delta a
/// rounded deficit still gives g = 1 exactly inside the region. delta = 0 (files written before the dead zone) keeps
/// the exact 2H form.
/// </para>
/// </summary>
public sealed class Support
{
    /// <summary>The dead zone of new supports, 1/16 (exact in binary, 1 - delta = 15/16).</summary>
    public const double DefaultDeadZone = 1.0 / 16;

    /// <summary>Creates a support from a pattern (null: no pattern rows), explicit rows and an optional box part.</summary>
    public Support(ActivationPattern? pattern, IReadOnlyList<HalfSpace> rows, double gamma, double deadZone = DefaultDeadZone, SupportBox? box = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gamma);
        if (!(deadZone >= 0 && deadZone <= 0.5)) throw new ArgumentOutOfRangeException(nameof(deadZone), deadZone, "The dead zone must be in [0, 0.5].");
        Pattern = pattern;
        Rows = rows;
        Gamma = gamma;
        DeadZone = deadZone;
        Box = box;
    }

    /// <summary>A box the support is also limited to (<see cref="SupportBox"/>), or null.</summary>
    public SupportBox? Box { get; }

    /// <summary>The dead zone delta: g = 1 where the deficit is at most delta.</summary>
    public double DeadZone { get; }

    /// <summary>The activation pattern whose neuron signs gate the patch, or null.</summary>
    public ActivationPattern? Pattern { get; }

    /// <summary>Explicit rows a . x &lt;= b.</summary>
    public IReadOnlyList<HalfSpace> Rows { get; }

    /// <summary>Sharpness gamma.</summary>
    public double Gamma { get; }

    /// <summary>K, the number of rows.</summary>
    public int RowCount => (Pattern?.Count ?? 0) + WinnerWindows.Length + Rows.Count + 2 * (Box?.Dimension ?? 0);

    private int[]? _winnerWindows;

    /// <summary>The windows of the pattern's max pools whose winner is active (the gated winner rows), ascending.</summary>
    public int[] WinnerWindows => _winnerWindows ??= Pattern?.Winners is { } winners
        ? Enumerable.Range(0, winners.Length).Where(o => Pattern[winners[o]]).ToArray()
        : [];

    /// <summary>The same support with another gamma.</summary>
    public Support WithGamma(double gamma) => new(Pattern, Rows, gamma, DeadZone, Box);

    /// <summary>
    /// g_R at x, given the network's pre-activations z(x) (flat, <c>[H]</c>), in the deficit form
    /// g = min(1, max(0, 1 - D) / (1 - delta)) with D = sum_j clamp(-gamma u_j, 0, 1): exactly 1 where every row holds
    /// (and wherever D &lt;= delta). Stops as soon as the deficit reaches 1.
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
            if (Pattern.Pools is { } pools)
            {
                foreach (int o in WinnerWindows)
                {
                    double u = z[Pattern.Winners![o]] - pools.WindowMax(z, o);
                    if (u >= 0) continue;
                    deficit += Math.Min(-Gamma * u, 1);
                    if (deficit >= 1) return 0;
                }
            }
        }
        foreach (var row in Rows)
        {
            double slack = row.Slack(x);
            if (slack >= 0) continue;
            deficit += Math.Min(-Gamma * slack, 1);
            if (deficit >= 1) return 0;
        }
        if (Box is { } box)
        {
            for (int i = 0; i < box.Dimension; i++)
            {
                double v = box.Violation(x, i);
                if (v == 0) continue;
                deficit += Math.Min(Gamma * v, 1);
                if (deficit >= 1) return 0;
            }
        }
        return Math.Min(1, (1 - deficit) / (1 - DeadZone)); // delta = 0: 1 - deficit exactly (division by 1)
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
            if (Pattern.Pools is { } pools)
                foreach (int o in WinnerWindows) worst = Math.Max(worst, pools.WindowMax(z, o) - z[Pattern.Winners![o]]);
        }
        foreach (var row in Rows) worst = Math.Max(worst, -row.Slack(x));
        if (Box is { } box) for (int i = 0; i < box.Dimension; i++) worst = Math.Max(worst, box.Violation(x, i));
        return worst > 0 ? 1 / worst : double.PositiveInfinity;
    }
}
