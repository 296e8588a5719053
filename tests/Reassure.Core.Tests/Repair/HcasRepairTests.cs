using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Repair;

/// <summary>
/// REASSURE's HCAS example: the 50 counterexamples of hcas-pra1-tau05 (raw inputs, no normalisation) repaired to
/// advisory 4 (SR, argmax), which models/PROVENANCE.md gives for that area (the rows hold x, y down to 0 ft, so the domain is x, y in [0, 5000], psi in [-pi, -pi/2]).
/// </summary>
[TestClass]
public sealed class HcasRepairTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void FiftyCounterexamples_AllRepairedToStrongRight()
    {
        var model = OnnxImporter.Load(TestData.File("models", "hcas-pra1-tau05.onnx"));
        var net = model.Network;
        var xs = RowsCsv.ReadInputs(TestData.File("models", "hcas-cex-pra1-tau05.csv"), 3);
        Assert.AreEqual(50, xs.Length);
        Assert.IsTrue(xs.All(x => TinyNetworks.ArgMax(net.Evaluate(x)) != 4), "every row is a counterexample before repair");
        double scale = xs.Max(x => net.Evaluate(x).Max(Math.Abs));
        double margin = Math.Max(1e-3, 1e-4 * scale); // raw HCAS logits are large; float32 runtimes differ by ~1e-3 absolute
        // psi bounds are widened a hair so that float32(-pi) lies inside.
        var domain = new InputBox([0, 0, -3.1416], [5000, 5000, -1.5707]);
        var buggy = xs.Select((x, i) => new BuggyInput(x, new ClassificationSpecification(4, margin), $"cex[{i}]")).ToList();
        var result = Repairer.Repair(net, buggy, new RepairOptions { Domain = domain, Float32Evaluator = new OnnxRuntimeFloat32Evaluator(model) });
        foreach (var s in result.Inputs)
        {
            Assert.IsTrue(s.Fixed && s.FixedFloat32 == true, $"{s.Id}: {s.Message}");
            Assert.AreEqual(4, TinyNetworks.ArgMax(result.Network.Evaluate(xs[s.Index])));
        }
        Assert.IsTrue(result.Patches.All(p => p.Verified));
        TestContext.WriteLine($"HCAS tau05: {result.FixedCount}/50 fixed, {result.Patches.Count} patches, {result.Timings.Total.TotalSeconds:F2} s, margin {margin:G3}, gammas {string.Join(",", result.Patches.Select(p => p.Gamma).Distinct())}");
    }
}
