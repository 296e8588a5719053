namespace Reassure.Causality;

/// <summary>Options of <see cref="CausalLocalizer.Localize"/>.</summary>
public sealed record LocalizationOptions
{
    /// <summary>The default number of grid values per neuron.</summary>
    public const int DefaultGridSteps = 16;

    /// <summary>
    /// Number S of intervention values per neuron, evenly spaced over the neuron's observed range on the rows,
    /// both ends included: v_k = lo + k (hi - lo) / (S - 1), k = 0..S-1. At least 2. Default 16 (CARE uses a few steps).
    /// </summary>
    public int GridSteps { get; init; } = DefaultGridSteps;

    /// <summary>
    /// Only the hidden layer with this ONNX tensor name (its pre-activation or its activation tensor,
    /// <see cref="Networks.Layer.Names"/>); null: every hidden layer. An unknown name is RSR1053.
    /// </summary>
    public string? Layer { get; init; }

    /// <summary>Only the hidden layer with this index (0 = the first hidden layer); null: every hidden layer. Out of range is RSR1053.</summary>
    public int? LayerIndex { get; init; }

    /// <summary>Neurons analysed in parallel; the result does not depend on it (results are placed by neuron index).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}
