namespace Reassure.Networks;

/// <summary>
/// A network cut at a hidden tensor u (method.md §13, feature-space repair): f(x) = s(phi(x)), with the prefix
/// phi the fixed feature map from the input to u and the suffix s the sub-network from u to the output.
/// <code>
///   phi(x) = P(x)           or relu(P(x))  when u is the output of a Relu (<see cref="PrefixRelu"/>)
///                           or maxpool(relu(P(x))) when u is the output of a MaxPool on a Relu (<see cref="PrefixPool"/>)
///   s(u)   = W_L relu(... relu(W_1 u + b_1) ...) + b_L        a ReLU network of its own, input u
/// </code>
/// P is a <see cref="Network"/> ending in an affine layer (the pre-activation of u's Relu, or u itself). Repairs are
/// built for s over a box U of features, <see cref="Bounds"/> of phi over the input domain (sound) or given.
/// </summary>
public sealed class FeatureSplit
{
    private const double Slack = 1e-9;

    /// <summary>Creates a split; the prefix's output width must equal the suffix's input width.</summary>
    public FeatureSplit(string tensor, Network prefix, bool prefixRelu, Network suffix, MaxPoolWindows? prefixPool = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(tensor);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(suffix);
        if (prefixPool is not null && (!prefixRelu || prefixPool.Inputs != prefix.OutputSize))
            throw new ArgumentException("A max pool of the features pools the prefix's ReLU outputs.", nameof(prefixPool));
        int width = prefixPool?.Outputs ?? prefix.OutputSize;
        if (width != suffix.InputSize)
            throw new ArgumentException($"The prefix gives {width} features but the suffix takes {suffix.InputSize}.", nameof(suffix));
        Tensor = tensor;
        Prefix = prefix;
        PrefixRelu = prefixRelu;
        PrefixPool = prefixPool;
        Suffix = suffix;
    }

    /// <summary>
    /// A max pool over relu(P(x)) that gives u (ONNX Relu then MaxPool, method.md §12), or null. The features are
    /// computed exactly; the suffix is repaired over a box of them, so the pool's winners are no part of its regions.
    /// </summary>
    public MaxPoolWindows? PrefixPool { get; }

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
        if (PrefixPool is { } pool)
        {
            var pooled = new double[pool.Outputs];
            pool.Apply(u, pooled);
            return pooled;
        }
        return u;
    }

    /// <summary>The whole network's output s(phi(x)), <c>[m]</c>.</summary>
    public double[] Evaluate(ReadOnlySpan<double> x) => Suffix.Evaluate(Features(x));

    /// <summary>
    /// A sound box of phi over <paramref name="domain"/>: the hidden pre-activations of P bounded by interval arithmetic
    /// through each layer's map (<see cref="LinearMap.ApplyInterval"/>, no dense matrix for convolutions), tightened by
    /// <see cref="LinearBounds"/> (back-substitution) when every layer of P is dense and small enough
    /// (<see cref="SymbolicBudget"/>); the last affine layer by interval arithmetic on those bounds, widened by a relative
    /// 1e-9 for rounding, and a final Relu applied to both ends. Every feature vector of an input in the domain lies in it.
    /// </summary>
    public InputBox Bounds(InputBox domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (domain.Dimension != InputSize) throw new ArgumentException($"Domain has {domain.Dimension} dimensions, the network {InputSize} inputs.", nameof(domain));
        var layers = Prefix.Layers;
        NeuronBounds? symbolic = null;
        long cost = 0;
        for (int l = 1; l < layers.Count - 1; l++) cost += 2L * layers[l].Outputs * layers[l].Inputs;
        if (layers.All(l => l.IsDense) && cost <= SymbolicBudget) symbolic = LinearBounds.Compute(Prefix, domain);
        double[] inLo = domain.Lower, inHi = domain.Upper; // [layer l's inputs]
        for (int l = 0; l < layers.Count; l++)
        {
            var layer = layers[l];
            var lo = new double[layer.Outputs];
            var hi = new double[layer.Outputs];
            layer.Map.ApplyInterval(inLo, inHi, lo, hi);
            for (int j = 0; j < lo.Length; j++)
            {
                lo[j] += layer.Bias[j];
                hi[j] += layer.Bias[j];
            }
            if (l == layers.Count - 1)
            {
                for (int j = 0; j < lo.Length; j++)
                {
                    // Widened by a relative 1e-9: the features are computed in another summation order than these bounds.
                    double a = lo[j] - Slack * (1 + Math.Abs(lo[j])), b = hi[j] + Slack * (1 + Math.Abs(hi[j]));
                    lo[j] = PrefixRelu ? Math.Max(0, a) : a;
                    hi[j] = PrefixRelu ? Math.Max(0, b) : b;
                }
                if (PrefixPool is { } pool)
                {
                    // max is monotone: [max of the lower ends, max of the upper ends] per window.
                    var plo = new double[pool.Outputs];
                    var phi = new double[pool.Outputs];
                    pool.ApplyInterval(lo, hi, plo, phi);
                    return new InputBox(plo, phi);
                }
                return new InputBox(lo, hi);
            }
            if (symbolic is not null)
            {
                int off = Prefix.HiddenOffsets[l];
                for (int j = 0; j < lo.Length; j++)
                {
                    lo[j] = Math.Max(lo[j], symbolic.Lower[off + j]);
                    hi[j] = Math.Min(hi[j], symbolic.Upper[off + j]);
                }
            }
            for (int j = 0; j < lo.Length; j++)
            {
                lo[j] = Math.Max(0, lo[j]);
                hi[j] = Math.Max(0, hi[j]);
            }
            if (layer.MaxPool is { } hiddenPool)
            {
                var plo = new double[hiddenPool.Outputs];
                var phi = new double[hiddenPool.Outputs];
                hiddenPool.ApplyInterval(lo, hi, plo, phi);
                (lo, hi) = (plo, phi);
            }
            inLo = lo;
            inHi = hi;
        }
        throw new InvalidOperationException("unreachable: the prefix has at least one layer");
    }

    /// <summary>Largest number of coefficients (sum over hidden layers after the first of 2 w_l w_(l-1)) for which <see cref="Bounds"/> back-substitutes.</summary>
    public const long SymbolicBudget = 20_000_000;
}
