using Microsoft.ML.Data;

namespace Reassure.MLNet.Tests;

/// <summary>An MNIST row as two half-images and an integer digit.</summary>
public sealed class HalvesRow
{
    [VectorType(392)]
    public float[] Top { get; set; } = [];

    [VectorType(392)]
    public float[] Bottom { get; set; } = [];

    public uint Digit { get; set; }
}
