using Reassure.Networks;
using Reassure.Specifications;

namespace Reassure.Verification;

/// <summary>
/// alpha-CROWN with a Lagrangian over a conjunction (issue 21): a sound lower bound of
/// <code>
///   min_{x in box} max_k (a_k . f(x) - b_k)  >=  min_{x in box} sum_k mu_k (a_k . f(x) - b_k)   (mu in the simplex)
/// </code>
/// where the right-hand side is bounded by back-substitution (<see cref="LinearBounds"/>) with the lower slope
/// alpha_j in [0, 1] of every unstable ReLU (relu(z) >= alpha_j z) as a free parameter. Any alpha in [0, 1] and any mu
/// in the simplex give a sound bound; both are improved by projected gradient ascent (Adam on alpha, exponentiated
/// gradient on mu). The gradient comes from Danskin's theorem: with x* the box vertex minimising the linear bound, the
/// bound equals the relaxed linear network evaluated at x*, so d/d alpha_j = v_j z_j(x*) (v_j the back-substituted
/// coefficient of relu(z_j), used only where v_j &gt; 0) and d/d mu_k = a_k . y(x*) - b_k. A bound &gt; 0 proves that
/// no x of the box reaches the conjunction. The intermediate bounds stay those given (CROWN/DeepPoly). In the
/// branch and bound a sub-box starts from its parent's best alpha and mu (warm start, as alpha-beta-CROWN carries
/// alpha down its tree): a sub-box's bound is mostly closed or given up on within a few steps.
/// </summary>
internal static class AlphaCrown
{
    /// <summary>The best bound found, its input coefficients lam (<c>[n]</c>, for the branching score) and the vertex x* minimising it.</summary>
    /// <summary>Step after which a bound whose improvement rate cannot reach the target in the steps left is given up.</summary>
    private const int CheckAt = 5;

    public readonly record struct Result(double Bound, double[] Lambda, double[] Minimizer, int Iterations, AlphaStart Final);

    /// <summary>
    /// Slopes alpha (<c>[H]</c>) and row weights mu (<c>[rows]</c>) to start from: a branch-and-bound parent's best, which
    /// is as sound a choice on a sub-box as any other (every alpha in [0, 1] and mu in the simplex give a valid bound).
    /// </summary>
    public sealed record AlphaStart(double[] Alpha, double[] Mu);

    /// <summary>
    /// Maximises the bound over alpha and mu for at most <paramref name="iterations"/> steps, stopping as soon as it
    /// exceeds <paramref name="stopAbove"/>, from <paramref name="start"/> when given (else CROWN's slopes and equal weights).
    /// </summary>
    public static Result Optimize(Network net, InputBox box, NeuronBounds bounds, IReadOnlyList<OutputConstraint> rows, int iterations, double stopAbove, AlphaStart? start = null)
    {
        var layers = net.Layers;
        int hidden = layers.Count - 1, n = net.InputSize, m = net.OutputSize, kRows = rows.Count;
        var lo = bounds.Lower;
        var hi = bounds.Upper;
        // alpha per neuron (only unstable ones matter), CROWN's choice to start
        var alpha = new double[net.HiddenCount];
        for (int j = 0; j < alpha.Length; j++) alpha[j] = start is not null ? start.Alpha[j] : hi[j] > -lo[j] ? 1 : 0;
        var mAdam = new double[alpha.Length];
        var vAdam = new double[alpha.Length];
        var mu = new double[kRows];
        if (start is not null && start.Mu.Length == kRows) Array.Copy(start.Mu, mu, kRows);
        else Array.Fill(mu, 1.0 / kRows);
        double[] bestAlpha = alpha, bestMu = mu;
        // v[k]: coefficients of a_k = relu(z_k) before relaxation; z[k]: forward pre-activations at x*
        var v = new double[hidden][];
        var z = new double[hidden][];
        for (int k = 0; k < hidden; k++) { v[k] = new double[layers[k].Outputs]; z[k] = new double[layers[k].Outputs]; }
        var c = new double[m];
        var y = new double[m];
        var grad = new double[alpha.Length];
        var gMu = new double[kRows];
        double best = double.NegativeInfinity;
        double[] bestLam = new double[n], bestX = box.Center();
        const double lr = 0.1, beta1 = 0.9, beta2 = 0.999;
        int it = 0;
        double first = double.NegativeInfinity;
        for (; it < iterations; it++)
        {
            // c = sum mu_k a_k, c0 = -sum mu_k b_k
            Array.Clear(c);
            double c0 = 0;
            for (int r = 0; r < kRows; r++)
            {
                var a = rows[r].A;
                for (int o = 0; o < m; o++) c[o] += mu[r] * a[o];
                c0 -= mu[r] * rows[r].B;
            }
            // backward
            var last = layers[^1];
            for (int o = 0; o < m; o++) c0 += c[o] * last.Bias[o];
            var lam = v[hidden - 1];
            Array.Clear(lam);
            last.Map.ApplyTranspose(c, lam);
            double[] lamX = new double[n];
            for (int k = hidden - 1; k >= 0; k--)
            {
                var layer = layers[k];
                int off = net.HiddenOffsets[k], w = layer.Outputs;
                var vk = v[k];
                var u = new double[w];
                for (int j = 0; j < w; j++)
                {
                    double val = vk[j];
                    if (val == 0) continue;
                    double l = lo[off + j], h = hi[off + j];
                    if (l >= 0) u[j] = val;
                    else if (h <= 0) u[j] = 0;
                    else if (val > 0) u[j] = val * alpha[off + j];
                    else
                    {
                        double s = h / (h - l);
                        u[j] = val * s;
                        c0 += val * (-s * l);
                    }
                }
                for (int j = 0; j < w; j++) if (u[j] != 0) c0 += u[j] * layer.Bias[j];
                if (k > 0) { Array.Clear(v[k - 1]); layer.Map.ApplyTranspose(u, v[k - 1]); }
                else layer.Map.ApplyTranspose(u, lamX);
            }
            // concretize
            var x = new double[n];
            double bound = c0;
            for (int i = 0; i < n; i++)
            {
                double li = lamX[i];
                x[i] = li > 0 ? box.Lower[i] : li < 0 ? box.Upper[i] : 0.5 * (box.Lower[i] + box.Upper[i]);
                bound += li * x[i];
            }
            if (bound > best) { best = bound; bestLam = lamX; bestX = x; bestAlpha = (double[])alpha.Clone(); bestMu = (double[])mu.Clone(); }
            if (best > stopAbove || it == iterations - 1) { it++; break; }
            if (it == 0) first = bound;
            // hopeless: even the improvement rate of the first steps kept up would not reach the target
            else if (it == CheckAt && first < stopAbove && (best - first) / CheckAt * (iterations - CheckAt) < stopAbove - best) { it++; break; }
            // forward pass of the relaxed linear network at x*
            ReadOnlySpan<double> input = x;
            for (int k = 0; k < hidden; k++)
            {
                var layer = layers[k];
                int off = net.HiddenOffsets[k], w = layer.Outputs;
                var zk = z[k];
                layer.Map.Apply(input, zk);
                for (int j = 0; j < w; j++) zk[j] += layer.Bias[j];
                var a = new double[w];
                for (int j = 0; j < w; j++)
                {
                    double l = lo[off + j], h = hi[off + j], val = v[k][j];
                    if (l >= 0) a[j] = zk[j];
                    else if (h <= 0) a[j] = 0;
                    else if (val > 0) { a[j] = alpha[off + j] * zk[j]; grad[off + j] = val * zk[j]; }
                    else if (val < 0) { double s = h / (h - l); a[j] = s * (zk[j] - l); grad[off + j] = 0; }
                    else { a[j] = 0; grad[off + j] = 0; }
                }
                input = a;
            }
            last.Map.Apply(input, y);
            for (int o = 0; o < m; o++) y[o] += last.Bias[o];
            // Adam ascent on alpha, projected to [0, 1]
            double t1 = 1 - Math.Pow(beta1, it + 1), t2 = 1 - Math.Pow(beta2, it + 1);
            for (int k = 0; k < hidden; k++)
            {
                int off = net.HiddenOffsets[k], w = layers[k].Outputs;
                for (int j = off; j < off + w; j++)
                {
                    if (!(lo[j] < 0 && hi[j] > 0)) continue;
                    double g = grad[j];
                    mAdam[j] = beta1 * mAdam[j] + (1 - beta1) * g;
                    vAdam[j] = beta2 * vAdam[j] + (1 - beta2) * g * g;
                    double step = lr * (mAdam[j] / t1) / (Math.Sqrt(vAdam[j] / t2) + 1e-12);
                    alpha[j] = Math.Clamp(alpha[j] + step, 0, 1);
                }
            }
            // exponentiated gradient on mu
            if (kRows > 1)
            {
                double gmax = 0;
                for (int r = 0; r < kRows; r++)
                {
                    double s = -rows[r].B;
                    for (int o = 0; o < m; o++) s += rows[r].A[o] * y[o];
                    gMu[r] = s;
                    gmax = Math.Max(gmax, Math.Abs(s));
                }
                if (gmax > 0)
                {
                    double sum = 0;
                    for (int r = 0; r < kRows; r++) { mu[r] *= Math.Exp(gMu[r] / gmax); mu[r] = Math.Max(mu[r], 1e-6); sum += mu[r]; }
                    for (int r = 0; r < kRows; r++) mu[r] /= sum;
                }
            }
        }
        return new Result(best, bestLam, bestX, it, new AlphaStart(bestAlpha, bestMu));
    }
}
