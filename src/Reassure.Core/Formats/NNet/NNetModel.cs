using Reassure.Networks;

namespace Reassure.Formats.NNet;

/// <summary>
/// A network read from Kyle Julian's .nnet format with the normalisation facts of the file. <see cref="Network"/> is the
/// raw network (REASSURE semantics: the first layer takes raw inputs, outputs are not de-normalised);
/// <see cref="NormalizedNetwork"/> folds the file's normalisation in (HorizontalCAS / ACAS Xu semantics, without clipping).
/// </summary>
public sealed class NNetModel
{
    internal NNetModel(Network network, double[] minimums, double[] maximums, double[] means, double[] ranges, string source)
    {
        Network = network;
        Minimums = minimums;
        Maximums = maximums;
        Means = means;
        Ranges = ranges;
        Source = source;
    }

    /// <summary>The raw network: weights and biases as in the file, no normalisation.</summary>
    public Network Network { get; }

    /// <summary>Input minimums <c>[n]</c> (the clipping range of the normalised semantics).</summary>
    public double[] Minimums { get; }

    /// <summary>Input maximums <c>[n]</c>.</summary>
    public double[] Maximums { get; }

    /// <summary>Means <c>[n + 1]</c>: one per input, then the output mean.</summary>
    public double[] Means { get; }

    /// <summary>Ranges <c>[n + 1]</c>: one per input, then the output range.</summary>
    public double[] Ranges { get; }

    /// <summary>The file name.</summary>
    public string Source { get; }

    /// <summary>
    /// The network with normalisation folded in: x_norm = (x - mean_in) / range_in enters the first layer, so
    /// W'[o, i] = W[o, i] / range_i and b'_o = b_o - sum_i W[o, i] mean_i / range_i; the output y * range_out + mean_out
    /// leaves the last layer, so W' = W range_out and b' = b range_out + mean_out. Computed in double. Input clipping to
    /// [min, max] is not part of the network (callers clip).
    /// </summary>
    public Network NormalizedNetwork()
    {
        var layers = Network.Layers.ToArray();
        int n = Network.InputSize;
        var first = layers[0];
        var w = (double[])first.Weights.Clone();
        var b = (double[])first.Bias.Clone();
        for (int o = 0; o < first.Outputs; o++)
        {
            for (int i = 0; i < n; i++)
            {
                double wi = first.Weights[o * n + i];
                w[o * n + i] = wi / Ranges[i];
                b[o] -= wi * Means[i] / Ranges[i];
            }
        }
        layers[0] = new DenseLayer(first.Inputs, first.Outputs, w, b, first.Relu);
        var last = layers[^1];
        double range = Ranges[n], mean = Means[n];
        layers[^1] = new DenseLayer(last.Inputs, last.Outputs,
            last.Weights.Select(v => v * range).ToArray(), last.Bias.Select(v => v * range + mean).ToArray(), relu: false);
        return new Network(layers, Network.InputName, Network.OutputName, Network.Domain);
    }
}
