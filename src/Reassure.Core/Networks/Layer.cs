namespace Reassure.Networks;

/// <summary>
/// One affine layer z = M a + b of a feed-forward ReLU network, optionally followed by ReLU (method.md §1). The linear
/// part M is a <see cref="LinearMap"/>: dense (Gemm, MatMul) or structured (convolution, pooling, layout changes;
/// method.md §12). Everything that needs M (regions, LPs, bounds, certificates, the exporter) goes through the map.
/// </summary>
public class Layer
{
    private double[]? _dense;

    /// <summary>Creates a layer from its linear map and bias <c>[out]</c>.</summary>
    public Layer(LinearMap map, double[] bias, bool relu, LayerNames? names = null, MaxPoolWindows? maxPool = null)
    {
        if (maxPool is not null && (!relu || maxPool.Inputs != map.Outputs))
            throw new ArgumentException("A max pool follows a ReLU layer and pools its outputs.", nameof(maxPool));
        MaxPool = maxPool;
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(bias);
        if (bias.Length != map.Outputs)
            throw new ArgumentException($"Expected {map.Outputs} biases, got {bias.Length}.", nameof(bias));
        Map = map;
        Bias = bias;
        Relu = relu;
        Names = names ?? LayerNames.Empty;
    }

    /// <summary>The linear part M.</summary>
    public LinearMap Map { get; }

    /// <summary>Width of the layer's input.</summary>
    public int Inputs => Map.Inputs;

    /// <summary>Number of neurons (width of the output).</summary>
    public int Outputs => Map.Outputs;

    /// <summary>
    /// Row-major weights, shape <c>[out, in]</c>. Treat as read-only. For a structured map this materialises the dense
    /// matrix on first use (and keeps it): prefer <see cref="Map"/> on hot paths.
    /// </summary>
    public double[] Weights => _dense ??= Map.ToDense();

    /// <summary>Bias, shape <c>[out]</c>. Treat as read-only.</summary>
    public double[] Bias { get; }

    /// <summary>Whether a ReLU follows the affine map.</summary>
    public bool Relu { get; }

    /// <summary>The names of the ONNX tensors this layer came from (empty when not from ONNX).</summary>
    public LayerNames Names { get; }

    /// <summary>A max pool over the ReLU outputs (ONNX Relu then MaxPool), or null (method.md §12).</summary>
    public MaxPoolWindows? MaxPool { get; }

    /// <summary>Width of what the next layer reads: the pooled outputs, or the neurons.</summary>
    public int ActivationWidth => MaxPool?.Outputs ?? Outputs;

    /// <summary>The same layer with a max pool over its ReLU outputs.</summary>
    public Layer WithMaxPool(MaxPoolWindows pool) => new(Map, Bias, Relu, Names, pool);

    /// <summary>Whether the linear part is a dense matrix.</summary>
    public bool IsDense => Map is DenseMap;

    /// <summary>Weight W[o, i].</summary>
    public double this[int o, int i] => Weights[o * Inputs + i];

    /// <summary>Number of parameters (stored weights and biases).</summary>
    public long ParameterCount => Map.StoredWeights + Outputs;

    /// <summary>z = M a + b into <paramref name="z"/> (<c>[out]</c>).</summary>
    public void Affine(ReadOnlySpan<double> a, Span<double> z)
    {
        if (a.Length != Inputs) throw new ArgumentException($"Expected {Inputs} inputs, got {a.Length}.", nameof(a));
        Map.Apply(a, z);
        for (int o = 0; o < Outputs; o++) z[o] = Bias[o] + z[o];
    }
}

/// <summary>A dense affine layer z = W a + b (Gemm), weights row-major <c>[out, in]</c>.</summary>
public sealed class DenseLayer : Layer
{
    /// <summary>Creates a layer from row-major weights <c>[out, in]</c> and a bias <c>[out]</c>.</summary>
    public DenseLayer(int inputs, int outputs, double[] weights, double[] bias, bool relu, LayerNames? names = null)
        : base(new DenseMap(inputs, outputs, weights), bias, relu, names)
    {
    }
}

/// <summary>ONNX tensor names a layer was read from; any may be null.</summary>
/// <param name="Weight">Initializer holding the weight matrix.</param>
/// <param name="Bias">Initializer holding the bias.</param>
/// <param name="PreActivation">The tensor holding z (the ReLU's input, or the network output for the last layer).</param>
/// <param name="Activation">The tensor holding relu(z), when the layer has a ReLU.</param>
public sealed record LayerNames(string? Weight, string? Bias, string? PreActivation, string? Activation)
{
    /// <summary>No names.</summary>
    public static LayerNames Empty { get; } = new(null, null, null, null);
}
