using System.Diagnostics;
using System.Globalization;
using Reassure.Networks;

namespace Reassure.Causality;

/// <summary>
/// Causal fault localization of hidden neurons by do-interventions (after CARE, Sun et al., ICSE 2022; docs/method.md,
/// "Causal fault localization").
/// <para>
/// Rows (x_r, y_r), r = 1..N. The label margin of an output vector o is m(o, y) = o_y - max_{k != y} o_k (positive
/// when the label wins). For hidden neuron j of hidden layer l with post-ReLU values a_j(x_r) on the rows, let
/// lo = min_r a_j(x_r) and hi = max_r a_j(x_r); the grid is v_k = lo + k (hi - lo) / (S - 1), k = 0..S-1
/// (S = <see cref="LocalizationOptions.GridSteps"/>, 16 by default; v_{S-1} is set to hi exactly). The intervention
/// do(a_j = v) replaces a_j by v for every row and runs the rest of the network forward unchanged, giving f_{j,v}(x_r).
/// The curve is the mean margin M_j(v) = (1/N) sum_r m(f_{j,v}(x_r), y_r), and the neuron's causal effect is its
/// spread over the grid, E_j = max_k M_j(v_k) - min_k M_j(v_k) (CARE's rule). A neuron that is constant on the rows
/// (lo = hi, e.g. dead on all of them) has E_j = 0 exactly.
/// </para>
/// <para>
/// Exact and fast: the network runs forward once per row; for layer l the activations a_l(x_r) <c>[N, n_l]</c> and the
/// next layer's pre-activations z_{l+1}(x_r) <c>[N, n_{l+1}]</c> are kept. do(a_j = v) changes z_{l+1} by the rank-one
/// term (v - a_j(x_r)) W_{l+1}[:, j], so only the layers after l run again, from the changed z_{l+1}. A row whose
/// a_j(x_r) equals v keeps its baseline margin (the same numbers, bit for bit). No sampling: every row, every grid value.
/// Deterministic: each neuron is computed by one thread, the sums run in row order, the results are placed by index,
/// so the result does not depend on <see cref="LocalizationOptions.MaxDegreeOfParallelism"/>.
/// </para>
/// </summary>
public static class CausalLocalizer
{
    /// <summary>The label margin m(o, y) = o_y - max_{k != y} o_k.</summary>
    public static double Margin(ReadOnlySpan<double> outputs, int label)
    {
        double best = double.NegativeInfinity;
        for (int k = 0; k < outputs.Length; k++)
            if (k != label && outputs[k] > best) best = outputs[k];
        return outputs[label] - best;
    }

    /// <summary>
    /// Ranks every hidden neuron of the selected layers by its causal effect on the label margin of the rows.
    /// Errors: RSR1023 no rows; RSR1022 a label that is not an output index; RSR1051 an input of the wrong width, a
    /// network with fewer than 2 outputs or no hidden layer; RSR1053 an unknown layer; RSR1060 a bad option value.
    /// </summary>
    /// <param name="network">The network.</param>
    /// <param name="inputs">Row inputs, <c>[N, n]</c>.</param>
    /// <param name="labels">Row labels, <c>[N]</c>, output indices.</param>
    /// <param name="options">Grid steps, layer, parallelism.</param>
    public static LocalizationResult Localize(Network network, IReadOnlyList<double[]> inputs, IReadOnlyList<int> labels, LocalizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.RequireNoMaxPool("causal localization");
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        options ??= new LocalizationOptions();
        var clock = Stopwatch.StartNew();
        if (inputs.Count != labels.Count) throw new ArgumentException($"{inputs.Count} inputs but {labels.Count} labels.", nameof(labels));
        if (inputs.Count == 0) throw new ReassureException(ErrorCodes.RowsEmpty, "no rows to localize on");
        if (options.GridSteps < 2)
            throw new ReassureException(ErrorCodes.InvalidOption, $"value '{options.GridSteps}' is out of range; expected at least 2 grid values", "GridSteps");
        if (options.MaxDegreeOfParallelism < 1)
            throw new ReassureException(ErrorCodes.InvalidOption, $"value '{options.MaxDegreeOfParallelism}' is out of range; expected at least 1", "MaxDegreeOfParallelism");
        if (network.OutputSize < 2) throw new ReassureException(ErrorCodes.BadSpecification, $"the label margin needs at least 2 outputs; the network has {network.OutputSize}");
        if (network.Layers.Count < 2) throw new ReassureException(ErrorCodes.BadSpecification, "the network has no hidden layer");
        int n = inputs.Count;
        for (int r = 0; r < n; r++)
        {
            if (inputs[r] is null || inputs[r].Length != network.InputSize)
                throw new ReassureException(ErrorCodes.BadSpecification, $"expected {network.InputSize} inputs, got {inputs[r]?.Length ?? 0}", $"row {r + 1}");
            if (labels[r] < 0 || labels[r] >= network.OutputSize)
                throw new ReassureException(ErrorCodes.RowsBadLabel, $"label {labels[r]} is not an output index 0..{network.OutputSize - 1}", $"row {r + 1}");
        }
        var selected = SelectLayers(network, options);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism };

        // One forward pass per row: every hidden pre-activation [N, HiddenCount] and the output [N, m].
        var pre = new double[n][];
        var outs = new double[n][];
        Parallel.For(0, n, parallel, r =>
        {
            pre[r] = new double[network.HiddenCount];
            outs[r] = new double[network.OutputSize];
            network.Evaluate(inputs[r], outs[r], pre[r]);
        });
        var baseline = new double[n]; // [N] margins of the unchanged network
        double sum = 0;
        for (int r = 0; r < n; r++)
        {
            baseline[r] = Margin(outs[r], labels[r]);
            sum += baseline[r];
        }
        double baselineMean = sum / n;

        var layers = new List<LayerLocalization>();
        foreach (int l in selected)
            layers.Add(new LayerLocalization(l, DisplayName(network.Layers[l], l), LocalizeLayer(network, l, pre, outs, labels, baseline, baselineMean, options.GridSteps, parallel)));
        return new LocalizationResult(n, options.GridSteps, baselineMean, layers, clock.Elapsed);
    }

    private static NeuronEffect[] LocalizeLayer(Network network, int l, double[][] pre, double[][] outs, IReadOnlyList<int> labels,
        double[] baseline, double baselineMean, int steps, ParallelOptions parallel)
    {
        int n = pre.Length;
        var layer = network.Layers[l];
        var next = network.Layers[l + 1];
        int width = layer.Outputs, nextWidth = next.Outputs;
        bool nextIsOutput = l + 1 == network.Layers.Count - 1;
        int offset = network.HiddenOffsets[l];
        // Activations a_l [N, n_l], as Network.Evaluate computes them, row-major.
        var a = new double[n * width];
        for (int r = 0; r < n; r++)
            for (int j = 0; j < width; j++)
            {
                double z = pre[r][offset + j];
                a[r * width + j] = z > 0 ? z : 0.0;
            }
        // Next pre-activations z_{l+1} [N, n_{l+1}]: the output for the last hidden layer.
        var zNext = new double[n][];
        for (int r = 0; r < n; r++)
            zNext[r] = nextIsOutput ? outs[r] : pre[r].AsSpan(network.HiddenOffsets[l + 1], nextWidth).ToArray();
        // Columns of W_{l+1} [n_l, n_{l+1}] (W_{l+1} is [n_{l+1}, n_l]): column j is the direction of the rank-one change.
        var columns = new double[width * nextWidth];
        for (int o = 0; o < nextWidth; o++)
            for (int j = 0; j < width; j++)
                columns[j * nextWidth + o] = next.Weights[o * width + j];
        int maxWidth = network.Layers.Max(x => x.Outputs);
        var effects = new NeuronEffect[width];
        Parallel.For(0, width, parallel, () => new Scratch(maxWidth), (j, _, s) =>
        {
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int r = 0; r < n; r++)
            {
                double v = a[r * width + j];
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            var grid = new double[steps];
            var means = new double[steps];
            for (int k = 0; k < steps; k++) grid[k] = k == steps - 1 ? hi : lo + k * (hi - lo) / (steps - 1);
            var column = columns.AsSpan(j * nextWidth, nextWidth);
            for (int k = 0; k < steps; k++)
            {
                if (lo == hi)
                {
                    means[k] = baselineMean; // every row already has a_j = v: the unchanged network
                    continue;
                }
                double total = 0;
                for (int r = 0; r < n; r++)
                {
                    double delta = grid[k] - a[r * width + j];
                    if (delta == 0)
                    {
                        total += baseline[r];
                        continue;
                    }
                    var z = s.Z0.AsSpan(0, nextWidth);
                    zNext[r].CopyTo(z);
                    Blas.Axpy(delta, column, z); // z_{l+1} + (v - a_j) W_{l+1}[:, j]
                    total += RestMargin(network, l + 1, s, labels[r]);
                }
                means[k] = total / n;
            }
            double min = means.Min(), max = means.Max();
            effects[j] = new NeuronEffect(l, j, max - min, lo, hi, grid, means);
            return s;
        }, _ => { });
        return effects;
    }

    /// <summary>Runs the layers after <paramref name="from"/> - 1 from the pre-activations in <c>s.Z0</c>; the label margin of the output.</summary>
    private static double RestMargin(Network network, int from, Scratch s, int label)
    {
        var layers = network.Layers;
        Span<double> current = s.Z0.AsSpan(0, layers[from].Outputs);
        bool inZ0 = true;
        for (int k = from; k < layers.Count - 1; k++)
        {
            var act = s.A.AsSpan(0, layers[k].Outputs);
            for (int j = 0; j < act.Length; j++) act[j] = current[j] > 0 ? current[j] : 0.0;
            var target = (inZ0 ? s.Z1 : s.Z0).AsSpan(0, layers[k + 1].Outputs);
            layers[k + 1].Affine(act, target);
            current = target;
            inZ0 = !inZ0;
        }
        return Margin(current, label);
    }

    /// <summary>Per-thread buffers: two pre-activation buffers and one activation buffer, each of the widest layer.</summary>
    private sealed class Scratch(int width)
    {
        public readonly double[] Z0 = new double[width];
        public readonly double[] Z1 = new double[width];
        public readonly double[] A = new double[width];
    }

    /// <summary>
    /// The naive intervention: one full forward pass of x with the post-ReLU value of neuron
    /// <paramref name="neuron"/> of hidden layer <paramref name="layer"/> replaced by <paramref name="value"/>; the outputs <c>[m]</c>.
    /// The reference the batched <see cref="Localize"/> is checked against.
    /// </summary>
    public static double[] Intervene(Network network, ReadOnlySpan<double> x, int layer, int neuron, double value)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, network.Layers.Count - 1);
        ArgumentOutOfRangeException.ThrowIfNegative(neuron);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(neuron, network.Layers[layer].Outputs);
        if (x.Length != network.InputSize) throw new ArgumentException($"Expected {network.InputSize} inputs, got {x.Length}.", nameof(x));
        double[] current = x.ToArray();
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var z = new double[network.Layers[l].Outputs];
            network.Layers[l].Affine(current, z);
            if (l == network.Layers.Count - 1) return z;
            for (int j = 0; j < z.Length; j++) z[j] = z[j] > 0 ? z[j] : 0.0;
            if (l == layer) z[neuron] = value;
            current = z;
        }
        throw new UnreachableException();
    }

    /// <summary>The name a layer is shown by: its ONNX activation tensor, else its pre-activation tensor, else "layer i".</summary>
    public static string DisplayName(Layer layer, int index)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return layer.Names.Activation ?? layer.Names.PreActivation ?? string.Create(CultureInfo.InvariantCulture, $"layer {index}");
    }

    /// <summary>
    /// The hidden layers <paramref name="options"/> select, in network order: all, the one whose ONNX activation or
    /// pre-activation tensor is named <see cref="LocalizationOptions.Layer"/>, or the one at <see cref="LocalizationOptions.LayerIndex"/>.
    /// RSR1053 naming the layer and listing the valid names otherwise.
    /// </summary>
    public static IReadOnlyList<int> SelectLayers(Network network, LocalizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        int hidden = network.Layers.Count - 1;
        if (options.Layer is null && options.LayerIndex is null) return Enumerable.Range(0, hidden).ToArray();
        int? byName = null;
        if (options.Layer is { } name)
        {
            for (int l = 0; l < hidden && byName is null; l++)
            {
                var names = network.Layers[l].Names;
                if (string.Equals(names.Activation, name, StringComparison.Ordinal) || string.Equals(names.PreActivation, name, StringComparison.Ordinal)) byName = l;
            }
            if (byName is null)
            {
                var last = network.Layers[^1].Names;
                string what = string.Equals(last.PreActivation, name, StringComparison.Ordinal) || string.Equals(last.Activation, name, StringComparison.Ordinal)
                    ? "is the output layer, not a hidden layer" : "is not a hidden layer of the network";
                throw new ReassureException(ErrorCodes.UnknownLayer, $"{what}; hidden layers: {ValidNames(network)}", $"layer '{name}'");
            }
        }
        if (options.LayerIndex is { } index)
        {
            if (index < 0 || index >= hidden)
                throw new ReassureException(ErrorCodes.UnknownLayer, $"is not a hidden layer index 0..{hidden - 1}; hidden layers: {ValidNames(network)}",
                    string.Create(CultureInfo.InvariantCulture, $"layer index {index}"));
            if (byName is { } b && b != index)
                throw new ReassureException(ErrorCodes.UnknownLayer, $"layer '{options.Layer}' is hidden layer {b}, not {index}; give the name or the index",
                    string.Create(CultureInfo.InvariantCulture, $"layer index {index}"));
            return [index];
        }
        return [byName!.Value];
    }

    /// <summary>"0: h1 (pre-activation z1), 1: ..." for the messages.</summary>
    private static string ValidNames(Network network)
    {
        var parts = new List<string>();
        for (int l = 0; l < network.Layers.Count - 1; l++)
        {
            var names = network.Layers[l].Names;
            var known = new[] { names.Activation, names.PreActivation }.Where(s => s is not null).Select(s => $"'{s}'").ToList();
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{l}: {(known.Count == 0 ? "(no tensor names)" : string.Join(" or ", known))}"));
        }
        return string.Join(", ", parts);
    }

    /// <summary>Effects largest first; ties by layer, then neuron index (a stable order).</summary>
    internal static IReadOnlyList<NeuronEffect> Rank(IReadOnlyList<NeuronEffect> neurons) =>
        neurons.OrderByDescending(e => e.Effect).ThenBy(e => e.Layer).ThenBy(e => e.Neuron).ToArray();
}
