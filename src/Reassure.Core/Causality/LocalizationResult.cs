namespace Reassure.Causality;

/// <summary>
/// The causal effect of one hidden neuron: the curve of the mean label margin under do(a_j = v) over the grid v, and
/// its spread <see cref="Effect"/> = max_k M(v_k) - min_k M(v_k) (see <see cref="CausalLocalizer"/>).
/// </summary>
/// <param name="Layer">Index of the hidden layer (0 = first hidden layer).</param>
/// <param name="Neuron">Index of the neuron in its layer.</param>
/// <param name="Effect">The spread of the curve, max - min of <see cref="MeanMargins"/>; 0 for a neuron constant on the rows.</param>
/// <param name="ObservedMin">Smallest post-ReLU value a_j over the rows (the grid's first value).</param>
/// <param name="ObservedMax">Largest post-ReLU value a_j over the rows (the grid's last value).</param>
/// <param name="Grid">The intervention values v_k, <c>[S]</c>.</param>
/// <param name="MeanMargins">M(v_k): the label margin averaged over the rows under do(a_j = v_k), <c>[S]</c>.</param>
public sealed record NeuronEffect(int Layer, int Neuron, double Effect, double ObservedMin, double ObservedMax,
    IReadOnlyList<double> Grid, IReadOnlyList<double> MeanMargins);

/// <summary>The effects of every neuron of one hidden layer.</summary>
/// <param name="Index">Index of the hidden layer (0 = first hidden layer).</param>
/// <param name="Name">The layer's ONNX activation tensor name (else its pre-activation name, else "layer i").</param>
/// <param name="Neurons">Every neuron's effect, by neuron index.</param>
public sealed record LayerLocalization(int Index, string Name, IReadOnlyList<NeuronEffect> Neurons)
{
    /// <summary>The neurons by effect, largest first (ties: lower neuron index first).</summary>
    public IReadOnlyList<NeuronEffect> Ranked { get; } = CausalLocalizer.Rank(Neurons);
}

/// <summary>The result of <see cref="CausalLocalizer.Localize"/>.</summary>
/// <param name="Rows">Number of rows the margins are averaged over.</param>
/// <param name="GridSteps">Grid values per neuron, S.</param>
/// <param name="BaselineMeanMargin">The mean label margin of the unchanged network on the rows.</param>
/// <param name="Layers">The analysed hidden layers, in network order.</param>
/// <param name="Elapsed">Wall time of the analysis.</param>
public sealed record LocalizationResult(int Rows, int GridSteps, double BaselineMeanMargin, IReadOnlyList<LayerLocalization> Layers, TimeSpan Elapsed)
{
    /// <summary>The neurons of every analysed layer by effect, largest first (ties: lower layer, then lower neuron index).</summary>
    public IReadOnlyList<NeuronEffect> Ranked { get; } = CausalLocalizer.Rank(Layers.SelectMany(l => l.Neurons).ToList());
}
