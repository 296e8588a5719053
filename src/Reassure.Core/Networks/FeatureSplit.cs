namespace Reassure.Networks;

/// <summary>
/// A network cut at a hidden tensor u (method.md §12, feature-space repair): f(x) = s(phi(x)), with the prefix
/// phi the fixed feature map from the input to u and the suffix s the sub-network from u to the output.
/// <code>
///   phi(x) = P(x)           or relu(P(x))  when u is the output of a Relu (<see cref="PrefixRelu"/>)
///   s(u)   = W_L relu(... relu(W_1 u + b_1) ...) + b_L        a ReLU network of its own, input u
/// </code>
/// P is a <see cref="Network"/> ending in an affine layer (the pre-activation of u's Relu, or u itself). Repairs are
/// built for s over a box U of features, <see cref="Bounds"/> of phi over the input domain (sound) or given.
/// </summary>
public sealed class FeatureSplit
{
    private const double Slack = 1e-9;

    /// <summary>Creates a split; the prefix's output width must equal the suffix's input width.</summary>
    public FeatureSplit(string tensor, Network prefix, bool prefixRelu, Network suffix)
    {
        ArgumentException.ThrowIfNullOrEmpty(tensor);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(suffix);
        if (prefix.OutputSize != suffix.InputSize)
            throw new ArgumentException($"The prefix gives {prefix.OutputSize} features but the suffix takes {suffix.InputSize}.", nameof(suffix));
        Tensor = tensor;
        Prefix = prefix;
        PrefixRelu = prefixRelu;
        Suffix = suffix;
    }

    /// <summary>The name of the tensor u the network is cut at (an ONNX tensor name).</summary>
    public string Tensor { get; }

    /// <summary>P: the input to u (or to the pre-activation of u's Relu), ending in an affine layer.</summary>
    public Network Prefix { get; }

    /// <summary>Whether u = relu(P(x)) (u is a Relu output) rather than P(x).</summary>
    public bool PrefixRelu { get; }

    /// <summary>s: u to the output.</summary>
    public Network Suffix { get; }

    /// <summary>Width of u.</summary>
    public int FeatureSize => Suffix.InputSize;

    /// <summary>Width of the network input x.</summary>
    public int InputSize => Prefix.InputSize;

    /// <summary>The features phi(x), <c>[FeatureSize]</c>.</summary>
    public double[] Features(ReadOnlySpan<double> x)
    {
        var u = Prefix.Evaluate(x);
        if (PrefixRelu) for (int i = 0; i < u.Length; i++) u[i] = u[i] > 0 ? u[i] : 0.0;
        return u;
    }

    /// <summary>The whole network's output s(phi(x)), <c>[m]</c>.</summary>
    public double[] Evaluate(ReadOnlySpan<double> x) => Suffix.Evaluate(Features(x));

    /// <summary>
    /// A sound box of phi over <paramref name="domain"/>: the hidden pre-activations of P bounded by
    /// <see cref="LinearBounds"/> (interval and back-substitution), its last affine layer by interval arithmetic on
    /// those bounds, widened by a relative 1e-9 for rounding, and a final Relu applied to both ends. Every feature vector of an input in the domain lies in it.
    /// </summary>
    public InputBox Bounds(InputBox domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (domain.Dimension != InputSize) throw new ArgumentException($"Domain has {domain.Dimension} dimensions, the network {InputSize} inputs.", nameof(domain));
        var last = Prefix.Layers[^1];
        double[] inLo, inHi; // [last.Inputs]
        if (Prefix.Layers.Count == 1)
        {
            inLo = domain.Lower;
            inHi = domain.Upper;
        }
        else
        {
            var hidden = LinearBounds.Compute(Prefix, domain);
            int off = Prefix.HiddenOffsets[^2];
            inLo = new double[last.Inputs];
            inHi = new double[last.Inputs];
            for (int k = 0; k < last.Inputs; k++)
            {
                inLo[k] = Math.Max(0, hidden.Lower[off + k]);
                inHi[k] = Math.Max(0, hidden.Upper[off + k]);
            }
        }
        var lo = new double[last.Outputs];
        var hi = new double[last.Outputs];
        for (int j = 0; j < last.Outputs; j++)
        {
            double l = last.Bias[j], h = last.Bias[j];
            var row = last.Weights.AsSpan(j * last.Inputs, last.Inputs);
            for (int k = 0; k < row.Length; k++)
            {
                double w = row[k];
                if (w > 0) { l += w * inLo[k]; h += w * inHi[k]; }
                else if (w < 0) { l += w * inHi[k]; h += w * inLo[k]; }
            }
            // Widened by a relative 1e-9: the features are computed in another summation order than these bounds.
            l -= Slack * (1 + Math.Abs(l));
            h += Slack * (1 + Math.Abs(h));
            lo[j] = PrefixRelu ? Math.Max(0, l) : l;
            hi[j] = PrefixRelu ? Math.Max(0, h) : h;
        }
        return new InputBox(lo, hi);
    }
}
