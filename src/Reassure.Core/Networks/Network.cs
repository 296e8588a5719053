namespace Reassure.Networks;

/// <summary>
/// A feed-forward ReLU network f(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L in double (method.md §1).
/// Every layer but the last is followed by ReLU. Keeps the names of the ONNX tensors it came from.
/// </summary>
public sealed class Network
{
    /// <summary>Builds a network from its layers; every layer but the last must have a ReLU.</summary>
    public Network(IReadOnlyList<Layer> layers, string inputName = "input", string outputName = "output", InputBox? domain = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("A network needs at least one layer.", nameof(layers));
        for (int l = 1; l < layers.Count; l++)
        {
            if (layers[l].Inputs != layers[l - 1].ActivationWidth)
                throw new ArgumentException($"Layer {l} takes {layers[l].Inputs} inputs but layer {l - 1} gives {layers[l - 1].ActivationWidth}.", nameof(layers));
        }
        for (int l = 0; l < layers.Count - 1; l++)
        {
            if (!layers[l].Relu) throw new ArgumentException($"Hidden layer {l} has no ReLU; fold consecutive affine layers first.", nameof(layers));
        }
        if (layers[^1].Relu) throw new ArgumentException("The output layer must not have a ReLU.", nameof(layers));
        if (domain is not null && domain.Dimension != layers[0].Inputs)
            throw new ArgumentException($"Domain has {domain.Dimension} dimensions, the network {layers[0].Inputs} inputs.", nameof(domain));
        Layers = layers;
        InputName = inputName;
        OutputName = outputName;
        Domain = domain;
        HiddenCount = 0;
        HiddenOffsets = new int[layers.Count];
        for (int l = 0; l < layers.Count - 1; l++)
        {
            HiddenOffsets[l] = HiddenCount;
            HiddenCount += layers[l].Outputs;
        }
        HiddenOffsets[^1] = HiddenCount;
        HasMaxPool = layers.Any(l => l.MaxPool is not null);
        AllDense = layers.All(l => l.IsDense) && !HasMaxPool; // the dense paths (input-space simplex, dense G) know no pools
        Pools = HasMaxPool ? new PoolLayout(layers, HiddenOffsets) : null;
    }

    /// <summary>Whether some layer pools its ReLU outputs by a max pool (method.md §12).</summary>
    public bool HasMaxPool { get; }

    /// <summary>The windows of the max pools in the flat hidden index, or null (no max pool).</summary>
    public PoolLayout? Pools { get; }

    /// <summary>
    /// Throws RSR1015 when the network has a max pool: <paramref name="what"/> has no exact treatment of the winners
    /// of the windows (method.md §12) and refuses rather than approximate.
    /// </summary>
    public void RequireNoMaxPool(string what)
    {
        if (!HasMaxPool) return;
        int l = Layers.ToList().FindIndex(x => x.MaxPool is not null);
        throw new ReassureException(ErrorCodes.MaxPoolNotAnalysable,
            $"{what} does not carry the winners of max-pool windows exactly, and layer {l} pools its ReLU outputs by a MaxPool ({Layers[l].MaxPool!.Kind}), " +
            "so it refuses rather than approximate. Point repair (repair with rows), eval and verify --rows handle max pools exactly; " +
            "expected a network without MaxPool (an AveragePool or a strided Conv in its place) for this command",
            Layers[l].Names.Activation ?? OutputName);
    }

    /// <summary>
    /// Throws RSR1015 when the network has a max pool outside the one form the region LP and its certificates handle:
    /// one hidden layer (the input form, method.md §12) whose ReLU outputs are pooled.
    /// </summary>
    internal void RequireAnalysablePools(string what)
    {
        if (!HasMaxPool || Layers.Count == 2) return;
        RequireNoMaxPool(what + " with more than one hidden layer");
    }

    /// <summary>Whether every layer's linear part is a dense matrix and no layer pools (the paths written for dense layers apply).</summary>
    public bool AllDense { get; }

    /// <summary>The affine layers in evaluation order.</summary>
    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>Name of the input tensor.</summary>
    public string InputName { get; }

    /// <summary>Name of the output tensor.</summary>
    public string OutputName { get; }

    /// <summary>The input domain the model was made for (e.g. NNet's ranges), if known.</summary>
    public InputBox? Domain { get; }

    /// <summary>Input width n.</summary>
    public int InputSize => Layers[0].Inputs;

    /// <summary>Output width m.</summary>
    public int OutputSize => Layers[^1].Outputs;

    /// <summary>Number of hidden (ReLU) neurons over all layers.</summary>
    public int HiddenCount { get; }

    /// <summary>Offset of layer l's neurons in the flat hidden index (length = layer count; last = HiddenCount).</summary>
    internal int[] HiddenOffsets { get; }

    /// <summary>Number of parameters.</summary>
    public long ParameterCount => Layers.Sum(l => l.ParameterCount);

    /// <summary>A copy with other tensor names or domain.</summary>
    public Network With(string? inputName = null, string? outputName = null, InputBox? domain = null) =>
        new(Layers, inputName ?? InputName, outputName ?? OutputName, domain ?? Domain);

    /// <summary>Evaluates f(x).</summary>
    public double[] Evaluate(ReadOnlySpan<double> x)
    {
        var y = new double[OutputSize];
        Evaluate(x, y, null);
        return y;
    }

    /// <summary>
    /// Evaluates f(x) into <paramref name="y"/> (<c>[m]</c>); when <paramref name="preActivations"/> is given
    /// (<c>[HiddenCount]</c>), writes every hidden pre-activation z_{l,j}(x) into it, layer after layer.
    /// </summary>
    public void Evaluate(ReadOnlySpan<double> x, Span<double> y, Span<double> preActivations)
    {
        if (x.Length != InputSize) throw new ArgumentException($"Expected {InputSize} inputs, got {x.Length}.", nameof(x));
        if (y.Length != OutputSize) throw new ArgumentException($"Expected an output buffer of {OutputSize}.", nameof(y));
        bool keep = preActivations.Length > 0;
        if (keep && preActivations.Length != HiddenCount) throw new ArgumentException($"Expected a buffer of {HiddenCount} pre-activations.", nameof(preActivations));
        int width = 0;
        foreach (var l in Layers) width = Math.Max(width, l.Outputs);
        // Pooled scratch: a convolution layer is tens of thousands wide (large-object-heap arrays per call otherwise).
        var pool = System.Buffers.ArrayPool<double>.Shared;
        var a0 = pool.Rent(width);
        var a1 = pool.Rent(width);
        var zBuffer = pool.Rent(width);
        try
        {
            var z = zBuffer.AsSpan(0, width);
            bool flip = false;
            ReadOnlySpan<double> current = x;
            for (int l = 0; l < Layers.Count; l++)
            {
                var layer = Layers[l];
                var zl = l == Layers.Count - 1 ? y : z[..layer.Outputs];
                layer.Affine(current, zl);
                if (l == Layers.Count - 1) break;
                if (keep) zl.CopyTo(preActivations.Slice(HiddenOffsets[l], layer.Outputs));
                var al = (flip ? a1 : a0).AsSpan(0, layer.Outputs);
                flip = !flip;
                for (int j = 0; j < al.Length; j++) al[j] = zl[j] > 0 ? zl[j] : 0.0;
                if (layer.MaxPool is { } mp)
                {
                    // max over each window of the ReLU outputs, written into the other buffer's front
                    var pooled = (flip ? a1 : a0).AsSpan(0, mp.Outputs);
                    flip = !flip;
                    mp.Apply(al, pooled);
                    al = pooled;
                }
                current = al;
            }
        }
        finally
        {
            pool.Return(a0);
            pool.Return(a1);
            pool.Return(zBuffer);
        }
    }

    /// <summary>Evaluates a batch, rows <c>[N, n]</c> to <c>[N, m]</c>.</summary>
    public double[][] EvaluateBatch(IReadOnlyList<double[]> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var outputs = new double[inputs.Count][];
        Parallel.For(0, inputs.Count, i => outputs[i] = Evaluate(inputs[i]));
        return outputs;
    }

    /// <summary>All hidden pre-activations of x, flat <c>[HiddenCount]</c>, layer after layer.</summary>
    public double[] PreActivations(ReadOnlySpan<double> x)
    {
        var z = new double[HiddenCount];
        Evaluate(x, new double[OutputSize], z);
        return z;
    }

    /// <summary>The activation pattern s_{l,j} = [z_{l,j}(x) >= 0] of x (method.md §1; z = 0 counts as active).</summary>
    public ActivationPattern Pattern(ReadOnlySpan<double> x) => PatternOf(PreActivations(x));

    /// <summary>The pattern of flat pre-activations z (<c>[H]</c>): the signs, and with max pools the winners (method.md §12).</summary>
    public ActivationPattern PatternOf(ReadOnlySpan<double> z)
    {
        var pattern = ActivationPattern.FromPreActivations(z);
        return Pools is null ? pattern : pattern.WithWinners(Pools, Pools.Winners(z));
    }

    /// <summary>Pre-activations of one layer l as a view of the flat vector.</summary>
    public ReadOnlySpan<double> LayerSlice(ReadOnlySpan<double> flat, int layer) =>
        flat.Slice(HiddenOffsets[layer], Layers[layer].Outputs);
}
