using Reassure.Formats.Onnx;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Benchmarks.Micro;

/// <summary>Shared set-up of the micro benchmarks: the MNIST network, its first misclassified test images, their buggy inputs.</summary>
internal static class MnistFixture
{
    private static readonly Lazy<(OnnxModel Model, double[][] X, int[] Y, List<BuggyInput> Buggy)> Data = new(() =>
    {
        var model = SharedData.LoadMnistModel();
        var (x, y) = SharedData.LoadMnistTest();
        var buggy = new List<BuggyInput>();
        for (int i = 0; i < x.Length && buggy.Count < 10; i++)
            if (SharedData.ArgMax(model.Network.Evaluate(x[i])) != y[i]) buggy.Add(new BuggyInput(x[i], new ClassificationSpecification(y[i], 1e-3), $"test[{i}]"));
        return (model, x, y, buggy);
    });

    private static readonly Lazy<RepairedNetwork> Repaired10 = new(() =>
        Repairer.Repair(Network, Buggy, new RepairOptions { Float32Evaluator = new OnnxRuntimeFloat32Evaluator(Model) }).Network);

    public static OnnxModel Model => Data.Value.Model;

    public static Network Network => Data.Value.Model.Network;

    public static double[][] Images => Data.Value.X;

    /// <summary>The first 10 misclassified test images (15, 217, 247, ...) with their labels as classification specs.</summary>
    public static List<BuggyInput> Buggy => Data.Value.Buggy;

    /// <summary>The domain the engine uses for them ([0, 1]^784).</summary>
    public static InputBox Domain => Repairer.DefaultDomain(Network, Buggy);

    /// <summary>The network repaired on the first 10 misclassified images (10 patches).</summary>
    public static RepairedNetwork Repaired => Repaired10.Value;
}
