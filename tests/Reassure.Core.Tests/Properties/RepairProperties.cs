using CsCheck;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Properties;

/// <summary>
/// The guarantees of method.md §6 on random tiny ReLU networks and random buggy points (CsCheck): every input is either
/// fixed (and then meets its specification) or carries a code; on sampled points of a fixed input's region where no other
/// support is on, the repaired network meets that input's specification (the patch holds on the region, not only at the
/// point); outside every support the output is bit-for-bit the original's, in Core and in ONNX Runtime.
/// </summary>
[TestClass]
public sealed class RepairProperties
{
    /// <summary>A random network n -> w_1 -> ... -> m with ReLU hidden layers, and its buggy points with wrong labels.</summary>
    internal sealed record Case(Network Network, List<BuggyInput> Buggy, int Seed)
    {
        public override string ToString() =>
            $"net {string.Join("/", Network.Layers.Select(l => l.Outputs).Prepend(Network.InputSize))}, {Buggy.Count} buggy, seed {Seed}";
    }

    internal static readonly Gen<Case> Cases =
        from n in Gen.Int[1, 3]
        from depth in Gen.Int[1, 2]
        from width in Gen.Int[2, 5]
        from m in Gen.Int[2, 3]
        from points in Gen.Int[1, 4]
        from seed in Gen.Int[0, int.MaxValue]
        select Build(n, depth, width, m, points, seed);

    private static Case Build(int n, int depth, int width, int m, int points, int seed)
    {
        var random = new Random(seed);
        double Weight() => Math.Round(random.NextDouble() * 4 - 2, 3);
        var layers = new List<DenseLayer>();
        int input = n;
        for (int l = 0; l < depth; l++)
        {
            layers.Add(new DenseLayer(input, width, Enumerable.Range(0, width * input).Select(_ => Weight()).ToArray(),
                Enumerable.Range(0, width).Select(_ => Weight() / 2).ToArray(), relu: true));
            input = width;
        }
        layers.Add(new DenseLayer(input, m, Enumerable.Range(0, m * input).Select(_ => Weight()).ToArray(), Enumerable.Range(0, m).Select(_ => Weight() / 2).ToArray(), relu: false));
        var net = new Network(layers);
        var buggy = new List<BuggyInput>();
        for (int k = 0; k < points; k++)
        {
            var x = Enumerable.Range(0, n).Select(_ => Math.Round(random.NextDouble() * 2 - 1, 4)).ToArray();
            int predicted = Prediction.Of(net.Evaluate(x));
            int label = (predicted + 1 + random.Next(m - 1)) % m; // any label but the prediction
            buggy.Add(new BuggyInput(x, new ClassificationSpecification(label, 0.01), $"p{k}"));
        }
        return new Case(net, buggy, seed);
    }

    private static readonly InputBox Box1 = InputBox.Uniform(1, -1, 1);

    private static RepairResult Repair(Case c) => Repairer.Repair(c.Network, c.Buggy, new RepairOptions
    {
        Domain = InputBox.Uniform(c.Network.InputSize, -1, 1),
        MaxDegreeOfParallelism = 1,
        CheckFloat32 = false,
    });

    [TestMethod]
    public void RandomNetworks_FixedInputsHoldOnTheirRegion_AndOutputsOutsideEverySupportAreTheOriginal()
    {
        Cases.Sample(c =>
        {
            var result = Repair(c);
            var net = result.Network;
            var random = new Random(c.Seed ^ 0x5eed);
            foreach (var s in result.Inputs)
            {
                var input = c.Buggy[s.Index];
                if (!s.IsFixed)
                {
                    Assert.IsNotNull(s.ErrorCode, $"{c}: {s.Id} is neither fixed nor coded");
                    continue;
                }
                Assert.IsTrue(input.Spec.IsMetBy(net.Evaluate(input.Input)), $"{c}: {s.Id} reported fixed");
                int own = s.Patch!.Value;
                var region = net.Patches[own].Region;
                var spec = input.Spec.ToLinear(c.Network.OutputSize);
                for (int k = 0; k < 24; k++)
                {
                    double scale = k < 12 ? 0.05 : 0.5;
                    var x = input.Input.Select(v => Math.Clamp(v + (random.NextDouble() * 2 - 1) * scale, -1, 1)).ToArray();
                    if (!region.Contains(x)) continue;
                    var y = net.Evaluate(x, out var gates);
                    if (gates.Where((g, l) => l != own && g > 0).Any()) continue; // another support mixes in: §6's band, not this property
                    Assert.IsTrue(spec.Slack(y) >= -1e-9, $"{c}: {s.Id}'s region point [{string.Join(", ", x)}] slack {spec.Slack(y)}");
                }
            }
            for (int k = 0; k < 32; k++)
            {
                var x = Enumerable.Range(0, c.Network.InputSize).Select(_ => random.NextDouble() * 2 - 1).ToArray();
                if (net.InAnySupport(x)) continue;
                Assert.IsTrue(RegressionCheck.SameBits(c.Network.Evaluate(x), net.Evaluate(x)), $"{c}: locality at [{string.Join(", ", x)}]");
            }
        }, iter: PropertySettings.Iter(400), threads: 1, print: c => c.ToString());
    }

    [TestMethod]
    public void RandomNetworks_OnnxRuntime_OutsideEverySupport_RunsTheOriginalBitForBit()
    {
        Cases.Sample(c =>
        {
            var result = Repair(c);
            if (result.Network.Patches.Count == 0) return;
            var source = OnnxImporter.Load(OnnxExporter.ToBytes(c.Network), "random.onnx");
            var repairedBytes = RepairedOnnxExporter.ToBytes(result.Network, source, result.Specs);
            Assert.IsNotNull(RepairedOnnxImporter.TryLoad(repairedBytes, "random-repaired.onnx"), "the tool reads its own file");
            var random = new Random(c.Seed);
            var points = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, c.Network.InputSize).Select(_ => random.NextDouble() * 2 - 1).ToArray())
                .Where(x => !result.Network.InAnySupport(x)).ToList();
            if (points.Count == 0) return;
            using var original = new InferenceSession(OnnxExporter.ToBytes(c.Network));
            using var repaired = new InferenceSession(repairedBytes);
            var a = OnnxRuntimeFloat32Evaluator.Run(original, c.Network.InputName, c.Network.InputSize, points);
            var b = OnnxRuntimeFloat32Evaluator.Run(repaired, c.Network.InputName, c.Network.InputSize, points);
            for (int k = 0; k < points.Count; k++)
                Assert.IsTrue(RegressionCheck.SameBits(a[k], b[k]), $"{c}: ONNX Runtime locality at [{string.Join(", ", points[k])}]");
        }, iter: PropertySettings.Iter(60), threads: 1, print: c => c.ToString());
    }
}
