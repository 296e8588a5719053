using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Lp;

/// <summary>
/// One linear region met by a box: its full activation pattern, the rows that cut it out of the box (only for the
/// neurons whose sign the box does not fix; the other signs hold on the whole box), a point inside it, and the
/// affine maps on it: every hidden pre-activation z = G x + h (<c>[H, n]</c>, <c>[H]</c>) and the output y = F x + e
/// (<c>[m, n]</c>, <c>[m]</c>).
/// </summary>
public sealed record RegionPiece(ActivationPattern Pattern, IReadOnlyList<HalfSpace> Rows, double[] Witness,
    double[] NeuronGradients, double[] NeuronOffsets, double[] OutputMatrix, double[] OutputOffset);

/// <summary>
/// Enumerates the linear regions of a network inside a box (method.md §6 area repair, as the REASSURE HCAS
/// experiment does it): depth first, layer by layer and neuron by neuron. With the signs of all earlier layers
/// fixed, a neuron's pre-activation is affine in x over the current polytope; when sound bounds over the box fix its
/// sign nothing is solved, otherwise one LP finds the extreme of the side opposite to a known interior point's
/// sign, and the polytope is split in two when both signs occur (by more than a relative 1e-9). Every leaf is a
/// non-empty region and the leaves tile the box (up to slivers thinner than that tolerance).
/// </summary>
public static class RegionEnumerator
{
    /// <summary>Relative tolerance under which an LP extreme counts as 0 (no split).</summary>
    public const double Tolerance = 1e-9;

    /// <summary>
    /// Calls <paramref name="visit"/> for every region of <paramref name="network"/> met by <paramref name="box"/>,
    /// until it returns false. <paramref name="bounds"/> (sound neuron bounds over the box) only saves LPs.
    /// Returns the number of LPs solved.
    /// </summary>
    public static int Enumerate(Network network, InputBox box, Reassure.Networks.NeuronBounds? bounds, Func<RegionPiece, bool> visit, CancellationToken ct = default)
    {
        network.RequireNoMaxPool("enumerating linear regions");
        var e = new Walker(network, box, bounds, visit, ct);
        var center = box.Center();
        var first = network.Layers[0];
        e.Layer(0, (double[])first.Weights.Clone(), (double[])first.Bias.Clone(), new bool[network.HiddenCount], [], center);
        return e.Lps;
    }

    /// <summary>All regions met by the box, as a list (stops after <paramref name="max"/>).</summary>
    public static List<RegionPiece> All(Network network, InputBox box, int max = int.MaxValue, CancellationToken ct = default)
    {
        var list = new List<RegionPiece>();
        var bounds = Reassure.Networks.LinearBounds.Compute(network, box);
        Enumerate(network, box, bounds, p => { list.Add(p); return list.Count < max; }, ct);
        return list;
    }

    private sealed class Walker(Network network, InputBox box, Reassure.Networks.NeuronBounds? bounds, Func<RegionPiece, bool> visit, CancellationToken ct)
    {
        private readonly int _n = box.Dimension;
        private readonly double[] _g = new double[network.HiddenCount * box.Dimension];
        private readonly double[] _h = new double[network.HiddenCount];
        public int Lps;
        private bool _stopped;

        // Layer l's pre-activation maps g [w, n], h [w] with all earlier signs fixed in bits.
        public void Layer(int l, double[] g, double[] h, bool[] bits, List<HalfSpace> rows, double[] witness)
        {
            int off = network.HiddenOffsets[l];
            Array.Copy(g, 0, _g, off * _n, g.Length);
            Array.Copy(h, 0, _h, off, h.Length);
            Neuron(l, 0, g, h, bits, rows, witness);
        }

        private void Neuron(int l, int j, double[] g, double[] h, bool[] bits, List<HalfSpace> rows, double[] witness)
        {
            if (_stopped) return;
            ct.ThrowIfCancellationRequested();
            var layers = network.Layers;
            int w = layers[l].Outputs, off = network.HiddenOffsets[l];
            while (j < w)
            {
                int flat = off + j;
                if (bounds is not null && bounds.Lower[flat] >= 0) { bits[flat] = true; j++; continue; }
                if (bounds is not null && bounds.Upper[flat] <= 0) { bits[flat] = false; j++; continue; }
                var gj = g.AsSpan(j * _n, _n);
                double zw = h[j] + Blas.Dot(gj, witness);
                double scale = 1 + Math.Abs(h[j]);
                for (int i = 0; i < _n; i++) scale += Math.Abs(gj[i]) * Math.Max(Math.Abs(box.Lower[i]), Math.Abs(box.Upper[i]));
                double tol = Tolerance * scale;
                var up = new HalfSpace(gj.ToArray(), -h[j]);                     // g.x <= -h   (z <= 0, inactive)
                var down = new HalfSpace(gj.ToArray().Select(v => -v).ToArray(), h[j]); // -g.x <= h (z >= 0, active)
                using var lp = LpBackend.Polytope(rows, box);
                Interlocked.Increment(ref Lps);
                if (zw >= 0)
                {
                    var min = lp.Maximize(down.A, -h[j]); // max of -z
                    double zmin = -min.Value;
                    if (zmin < -tol)
                    {
                        // both signs: active branch keeps the witness, inactive branch takes the LP point
                        var b1 = (bool[])bits.Clone(); b1[flat] = true;
                        Neuron(l, j + 1, g, h, b1, [.. rows, down], witness);
                        if (_stopped) return;
                        bits[flat] = false;
                        rows = [.. rows, up];
                        witness = min.X;
                        j++;
                        continue;
                    }
                    bits[flat] = true;
                    if (zmin < 0) rows = [.. rows, down];
                }
                else
                {
                    var max = lp.Maximize(up.A, h[j]);
                    double zmax = max.Value;
                    if (zmax > tol)
                    {
                        var b1 = (bool[])bits.Clone(); b1[flat] = false;
                        Neuron(l, j + 1, g, h, b1, [.. rows, up], witness);
                        if (_stopped) return;
                        bits[flat] = true;
                        rows = [.. rows, down];
                        witness = max.X;
                        j++;
                        continue;
                    }
                    bits[flat] = false;
                    if (zmax > 0) rows = [.. rows, up];
                }
                j++;
            }
            // Layer done: next layer's maps, or a leaf.
            var next = layers[l + 1];
            int nw = next.Outputs;
            var ng = new double[nw * _n];
            var nh = (double[])next.Bias.Clone();
            var cols = new int[next.Map.MaxRowEntries];
            var vals = new double[next.Map.MaxRowEntries];
            for (int o = 0; o < nw; o++)
            {
                var dst = ng.AsSpan(o * _n, _n);
                int count = next.Map.RowEntries(o, cols, vals);
                for (int e = 0; e < count; e++)
                {
                    int k = cols[e];
                    if (!bits[off + k]) continue;
                    double wt = vals[e];
                    if (wt == 0) continue;
                    Blas.Axpy(wt, g.AsSpan(k * _n, _n), dst);
                    nh[o] += wt * h[k];
                }
            }
            if (l + 1 == layers.Count - 1)
            {
                var piece = new RegionPiece(ActivationPattern.FromBits(bits), rows, witness, (double[])_g.Clone(), (double[])_h.Clone(), ng, nh);
                if (!visit(piece)) _stopped = true;
                return;
            }
            Layer(l + 1, ng, nh, bits, rows, witness);
        }
    }
}
