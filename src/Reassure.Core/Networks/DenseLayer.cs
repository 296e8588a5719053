namespace Reassure.Networks;

/// <summary>
/// One affine layer z = W a + b of a feed-forward ReLU network, optionally followed by ReLU
/// (method.md §1). Weights are held in double, row-major <c>[out, in]</c>.
/// </summary>
public sealed class DenseLayer
{
    /// <summary>Creates a layer from row-major weights <c>[out, in]</c> and a bias <c>[out]</c>.</summary>
    public DenseLayer(int inputs, int outputs, double[] weights, double[] bias, bool relu, LayerNames? names = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(bias);
        if (weights.Length != inputs * outputs)
            throw new ArgumentException($"Expected {outputs * inputs} weights ([{outputs}, {inputs}]), got {weights.Length}.", nameof(weights));
        if (bias.Length != outputs)
            throw new ArgumentException($"Expected {outputs} biases, got {bias.Length}.", nameof(bias));
        Inputs = inputs;
        Outputs = outputs;
        Weights = weights;
        Bias = bias;
        Relu = relu;
        Names = names ?? LayerNames.Empty;
    }

    /// <summary>Width of the layer's input.</summary>
    public int Inputs { get; }

    /// <summary>Number of neurons (width of the output).</summary>
    public int Outputs { get; }

    /// <summary>Row-major weights, shape <c>[out, in]</c>. Treat as read-only.</summary>
    public double[] Weights { get; }

    /// <summary>Bias, shape <c>[out]</c>. Treat as read-only.</summary>
    public double[] Bias { get; }

    /// <summary>Whether a ReLU follows the affine map.</summary>
    public bool Relu { get; }

    /// <summary>The names of the ONNX tensors this layer came from (empty when not from ONNX).</summary>
    public LayerNames Names { get; }

    /// <summary>Weight W[o, i].</summary>
    public double this[int o, int i] => Weights[o * Inputs + i];

    /// <summary>Number of parameters (weights and biases).</summary>
    public long ParameterCount => (long)Inputs * Outputs + Outputs;

    /// <summary>z = W a + b into <paramref name="z"/> (<c>[out]</c>).</summary>
    public void Affine(ReadOnlySpan<double> a, Span<double> z)
    {
        if (a.Length != Inputs) throw new ArgumentException($"Expected {Inputs} inputs, got {a.Length}.", nameof(a));
        var w = Weights.AsSpan();
        for (int o = 0; o < Outputs; o++)
        {
            z[o] = Bias[o] + Blas.Dot(w.Slice(o * Inputs, Inputs), a);
        }
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
