using Reassure.Networks;
using Reassure.Specifications;

namespace Reassure.Verification;

/// <summary>
/// Projected sign-gradient descent (the L-infinity PGD of Madry et al., ICLR 2018) on the violation of one unsafe
/// conjunction A y &lt;= b over an input box:
/// <code>
///   v(x) = max_r (a_r . f(x) - b_r)            (x is a counterexample of the conjunction iff v(x) &lt;= 0)
///   x   &lt;- clip_box(x - s_t w sign(grad (a_r* . f)(x)))     r* = argmax_r, w_i = U_i - L_i the box widths
///   s_t  = s_0 q^t                              (geometric step decay)
/// </code>
/// The gradient is the exact one of the network on x's linear region (one backward pass with x's activation masks).
/// The search only proposes points: the caller confirms every candidate with the plain evaluator before it counts.
/// Started from the vertex that minimises an alpha-CROWN bound of the conjunction (the relaxation's optimum,
/// <see cref="AlphaCrown"/>), it begins where the relaxation says a violation is likeliest, which random starts of
/// the box can miss when most of the box lies on a flat region of the margin (issue 21: mnistfc 256x2 prop_0_0.05).
/// </summary>
internal static class SignGradientDescent
{
    /// <summary>
    /// Runs <paramref name="steps"/> steps from <paramref name="start"/> (not changed) with step <paramref name="step"/>
    /// (share of each box width) times <paramref name="decay"/> per step; <paramref name="isCounterexample"/> is asked
    /// at every point with its output and ends the search when it says yes. Returns that point (or null) and the visited
    /// point of least violation v(x).
    /// </summary>
    public static Outcome Run(Network net, Func<double[], double[]> eval, InputBox box, OutputConjunction conj, double[] start,
        int steps, double step, double decay, Func<double[], double[], bool> isCounterexample, Func<bool>? stop = null)
    {
        int n = box.Dimension;
        var x = (double[])start.Clone();
        double[] best = x;
        double bestV = double.PositiveInfinity;
        for (int it = 0; it <= steps; it++)
        {
            var y = eval(x);
            if (isCounterexample(x, y)) return new Outcome(x, x, double.NegativeInfinity);
            int worst = 0;
            double worstV = double.NegativeInfinity;
            for (int r = 0; r < conj.Constraints.Count; r++)
            {
                double v = -conj.Constraints[r].Slack(y);
                if (v > worstV) { worstV = v; worst = r; }
            }
            if (worstV < bestV) { bestV = worstV; best = x; }
            if (it == steps || (stop is not null && stop())) break;
            var grad = Gradient(net, x, conj.Constraints[worst].A);
            var next = new double[n];
            bool moved = false;
            for (int i = 0; i < n; i++)
            {
                next[i] = Math.Clamp(x[i] - step * (box.Upper[i] - box.Lower[i]) * Math.Sign(grad[i]), box.Lower[i], box.Upper[i]);
                moved |= next[i] != x[i];
            }
            if (!moved) break; // a flat point or a vertex the gradient pushes out of the box: nothing changes any more
            x = next;
            step *= decay;
        }
        return new Outcome(null, best, bestV);
    }

    /// <summary>A confirmed counterexample (or null), and the visited point of least violation with its v(x).</summary>
    public readonly record struct Outcome(double[]? Counterexample, double[] Best, double BestViolation);

    /// <summary>Gradient of c . f(x) (<c>[n]</c>, c <c>[m]</c>) by one backward pass with x's activation masks.</summary>
    public static double[] Gradient(Network net, double[] x, double[] c)
    {
        var z = net.PreActivations(x);
        var winners = net.Pools?.Winners(z); // a max pool passes the gradient to its window's winner (method.md §12)
        var layers = net.Layers;
        var v = (double[])c.Clone();
        for (int l = layers.Count - 1; l >= 0; l--)
        {
            var layer = layers[l];
            if (l < layers.Count - 1)
            {
                int off = net.HiddenOffsets[l];
                if (layer.MaxPool is not null)
                {
                    var scattered = new double[layer.Outputs];
                    int first = net.Pools!.WindowOffsets[l];
                    for (int o = 0; o < v.Length; o++) scattered[winners![first + o] - off] = v[o];
                    v = scattered;
                }
                for (int j = 0; j < v.Length; j++) if (z[off + j] < 0) v[j] = 0;
            }
            var next = new double[layer.Inputs];
            layer.Map.ApplyTranspose(v, next);
            v = next;
        }
        return v;
    }
}
