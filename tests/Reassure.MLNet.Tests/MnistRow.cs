using Microsoft.ML.Data;

namespace Reassure.MLNet.Tests;

/// <summary>An MNIST row as the estimator reads it: 784 pixels and a long label.</summary>
internal sealed class MnistRow
{
    [VectorType(784)]
    public float[] Features { get; set; } = [];

    public long Label { get; set; }
}

/// <summary>The predicted label of a long label column: a one-element vector (ML.NET's OnnxTransformer has no scalar outputs).</summary>
internal sealed class LongPrediction
{
    public long[] PredictedLabel { get; set; } = [];
}
