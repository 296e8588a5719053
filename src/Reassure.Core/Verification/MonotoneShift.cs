using Reassure.Networks;
using Reassure.Specifications;

namespace Reassure.Verification;

/// <summary>
/// The algebra of monotone box patches (this project's sub-box area repair, see <see cref="Repair.BoxAreaRepairer"/>).
/// The unsafe set is U = U_1 or ... or U_K with U_k = { y : a_i . y &lt;= b_i, i in k }. A direction v is
/// <b>monotone</b> for U when every row of every U_k has a_{i,o} v_o &gt;= 0 for every output o (componentwise), and
/// a_i . v &gt; 0 for at least one row of each U_k. Then for any t_o in [0, 1] and mu &gt;= 0,
/// <code>
///   a_i . (y + mu sum_o t_o v_o e_o) &gt;= a_i . y        for every row i,
/// </code>
/// so moving an output along v (even component by component, by different fractions) never enters U from outside.
/// Rule used for v: the sum of all unsafe rows, each scaled to unit length (for ACAS Xu property 2, rows
/// Y_j - Y_0 &lt;= 0, this lowers the clear-of-conflict score and raises the others). Properties without such a v are
/// left to the region-by-region repair.
/// <para>
/// Needed shift on a box S: f + delta v avoids U_k at x as soon as some row has a_i . f(x) + delta a_i . v &gt; b_i, so
/// <code>
///   need(S) = max_k min_{i in k, a_i . v &gt; 0} (b_i - min_S a_i . f) / (a_i . v)
/// </code>
/// with min_S a_i . f replaced by its sound lower bound (<see cref="LinearBounds"/>) is enough on all of S; at a point
/// the same formula with a_i . f(x) is the exact shift that point needs (a lower bound of need(S)).
/// </para>
/// </summary>
public static class MonotoneShift
{
    /// <summary>How the network's outputs become its decision (used to pick a shift that leaves decisions alone).</summary>
    public enum Decision
    {
        /// <summary>Unknown: the sum rule.</summary>
        None,
        /// <summary>The decision is the index of the smallest output (ACAS Xu advisories).</summary>
        ArgMin,
        /// <summary>The decision is the index of the largest output (classifiers).</summary>
        ArgMax,
    }

    /// <summary>A monotone direction of the property's unsafe set (all cases), or null when the rule finds none.</summary>
    public static double[]? Direction(VnnLibProperty property)
    {
        var v = new double[property.Outputs];
        var rows = property.Cases.SelectMany(c => c.Unsafe).SelectMany(k => k.Constraints).ToList();
        if (rows.Count == 0) return null;
        foreach (var row in rows)
        {
            double norm = Math.Sqrt(row.A.Sum(a => a * a));
            if (norm == 0) return null;
            for (int o = 0; o < v.Length; o++) v[o] += row.A[o] / norm;
        }
        return IsMonotone(property, v) ? v : null;
    }

    /// <summary>
    /// The shift direction for a network whose decision is the argmin (ACAS Xu advisories) or argmax of its outputs:
    /// raising an output that is not the argmin (lowering one that is not the argmax) never changes the decision, so among
    /// the monotone unit directions +e_o (argmin) or -e_o (argmax) the one whose output is least often the decision on
    /// <paramref name="samplesPerCase"/> seeded points of each box is taken (lowest o on ties). Without such a
    /// direction, or for <see cref="Decision.None"/>, the sum rule of <see cref="Direction"/>.
    /// </summary>
    public static double[]? ChooseDirection(Network network, VnnLibProperty property, Decision decision, int samplesPerCase, int seed)
    {
        var sum = Direction(property);
        if (sum is null || decision == Decision.None) return sum;
        double sign = decision == Decision.ArgMin ? 1 : -1;
        var candidates = new List<int>();
        for (int o = 0; o < property.Outputs; o++)
        {
            var e = new double[property.Outputs];
            e[o] = sign;
            if (IsMonotone(property, e)) candidates.Add(o);
        }
        if (candidates.Count == 0) return sum;
        var counts = new int[property.Outputs];
        var rng = new Random(seed);
        foreach (var cs in property.Cases)
            for (int s = 0; s < samplesPerCase; s++)
            {
                var y = network.Evaluate(cs.Box.Sample(rng));
                int best = 0;
                for (int o = 1; o < y.Length; o++) if (decision == Decision.ArgMin ? y[o] < y[best] : y[o] > y[best]) best = o;
                counts[best]++;
            }
        int chosen = candidates.OrderBy(o => counts[o]).ThenBy(o => o).First();
        var v = new double[property.Outputs];
        v[chosen] = sign;
        return v;
    }

    /// <summary>Whether v is monotone for every case of the property (definition in the class summary).</summary>
    public static bool IsMonotone(VnnLibProperty property, ReadOnlySpan<double> v)
    {
        foreach (var cs in property.Cases)
            foreach (var conj in cs.Unsafe)
            {
                bool exits = false;
                foreach (var row in conj.Constraints)
                {
                    double dot = 0;
                    for (int o = 0; o < v.Length; o++)
                    {
                        if (row.A[o] * v[o] < 0) return false;
                        dot += row.A[o] * v[o];
                    }
                    if (dot > 0) exits = true;
                }
                if (!exits) return false;
            }
        return true;
    }

    /// <summary>
    /// The shift along v that is provably enough on the whole box (from the bounds), and the linear-bound minimisers
    /// (the box vertices where each used row's lower bound is attained: candidates for the worst point).
    /// </summary>
    public static (double Need, List<double[]> Vertices) NeedOnBox(Network net, InputBox box, NeuronBounds bounds, VnnLibCase cs, ReadOnlySpan<double> v)
    {
        double need = double.NegativeInfinity;
        var vertices = new List<double[]>();
        foreach (var conj in cs.Unsafe)
        {
            double best = double.PositiveInfinity;
            foreach (var row in conj.Constraints)
            {
                double av = Blas.Dot(row.A, v);
                if (av <= 0) continue;
                var (lb, lam, _) = LinearBounds.OutputLowerBound(net, box, bounds, row.A);
                best = Math.Min(best, (row.B - lb) / av);
                vertices.Add(box.Minimizer(lam));
            }
            need = Math.Max(need, best);
        }
        return (need, vertices);
    }

    /// <summary>The shift along v that output y needs to leave every U_k (negative when y is already safe).</summary>
    public static double NeedAt(ReadOnlySpan<double> y, VnnLibCase cs, ReadOnlySpan<double> v)
    {
        double need = double.NegativeInfinity;
        foreach (var conj in cs.Unsafe)
        {
            double best = double.PositiveInfinity;
            foreach (var row in conj.Constraints)
            {
                double av = Blas.Dot(row.A, v);
                if (av <= 0) continue;
                best = Math.Min(best, (row.B - Blas.Dot(row.A, y)) / av);
            }
            need = Math.Max(need, best);
        }
        return need;
    }

    /// <summary>min over the unsafe rows with a . v &gt; 0 of a . v (how much one unit of shift moves the slowest row).</summary>
    public static double SlowestRow(VnnLibProperty property, ReadOnlySpan<double> v)
    {
        double min = double.PositiveInfinity;
        foreach (var row in property.Cases.SelectMany(c => c.Unsafe).SelectMany(k => k.Constraints))
        {
            double av = Blas.Dot(row.A, v);
            if (av > 0) min = Math.Min(min, av);
        }
        return min;
    }

    /// <summary>
    /// The canonical bisection shared by the repair and the proof: the dimension widest relative to the root box
    /// (lowest index on ties; dimensions of zero root width are never split), cut at its midpoint. Because both walk
    /// the same tree from the same root, every patched box is a node the proof reaches.
    /// </summary>
    public static (InputBox Low, InputBox High)? Split(InputBox box, InputBox root)
    {
        int dim = -1;
        double widest = 0;
        for (int i = 0; i < box.Dimension; i++)
        {
            double rootWidth = root.Upper[i] - root.Lower[i];
            if (rootWidth <= 0) continue;
            double rel = (box.Upper[i] - box.Lower[i]) / rootWidth;
            if (rel > widest) { widest = rel; dim = i; }
        }
        if (dim < 0) return null;
        double mid = 0.5 * (box.Lower[dim] + box.Upper[dim]);
        if (!(mid > box.Lower[dim] && mid < box.Upper[dim])) return null; // no room left in double
        var lowUpper = (double[])box.Upper.Clone(); lowUpper[dim] = mid;
        var highLower = (double[])box.Lower.Clone(); highLower[dim] = mid;
        return (new InputBox(box.Lower, lowUpper), new InputBox(highLower, box.Upper));
    }
}
