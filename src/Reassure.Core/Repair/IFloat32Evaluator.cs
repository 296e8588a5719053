using Reassure.Patching;

namespace Reassure.Repair;

/// <summary>Evaluates a repaired network in float32 the way it will run after export (ONNX Runtime by default).</summary>
public interface IFloat32Evaluator
{
    /// <summary>Outputs of <paramref name="network"/> for each input, <c>[N, m]</c>.</summary>
    double[][] Evaluate(RepairedNetwork network, IReadOnlyList<double[]> inputs);
}
