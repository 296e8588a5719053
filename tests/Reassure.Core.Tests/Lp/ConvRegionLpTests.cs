using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Regions;
using Reassure.Tests.Formats;

namespace Reassure.Tests.Lp;

/// <summary>
/// The region LP and bounds on convolutional networks (issue 18, the layer seam): the input form of a structured hidden
/// layer and the layered form with sparse rows give optima that are attained (the maximiser lies in the region and the
/// network there has the LP value) and proved (the certificate's weak-duality bound closes on them); linear bounds
/// hold at sampled points.
/// </summary>
[TestClass]
public sealed class ConvRegionLpTests
{
    private static void AttainedAndProved(Network net, double[] x, InputBox box)
    {
        var region = new LinearRegion(net, net.Pattern(x), box);
        using var lp = new RegionLp(region);
        var y0 = net.Evaluate(x);
        int label = Inputs.ArgMax(y0);
        for (int o = 0; o < net.OutputSize; o++)
        {
            if (o == label) continue;
            var w = new double[net.OutputSize];
            w[o] = 1;
            w[label] = -1;
            var r = lp.MaximizeOutput(w);
            Assert.IsTrue(region.Contains(r.X) || Slightly(region, r.X), $"output {o}: the maximiser lies in the region");
            var y = net.Evaluate(r.X);
            Assert.AreEqual(y[o] - y[label], r.Value, 1e-6 * Math.Max(1, Math.Abs(r.Value)), $"output {o}: the network attains the LP value");
            Assert.IsGreaterThanOrEqualTo(y0[o] - y0[label] - 1e-9, r.Value, "the maximum is at least the value at the point");
            double ub = lp.Certificate().UpperBound(region, w, default, 0, out double rounding);
            Assert.AreEqual(r.Value, ub + rounding, 1e-6 * Math.Max(1, Math.Abs(r.Value)), $"output {o}: the certificate proves the optimum");
        }
    }

    /// <summary>A vertex solution may sit on a face within the LP's feasibility tolerance.</summary>
    private static bool Slightly(LinearRegion region, double[] x)
    {
        var z = region.Network.PreActivations(x);
        for (int j = 0; j < z.Length; j++) if (region.Pattern[j] ? z[j] < -1e-7 : z[j] > 1e-7) return false;
        return true;
    }

    [TestMethod]
    public void VerivitalAvgpool_InputFormOptimaAreAttainedAndProved()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "verivital", "Convnet_avgpool.onnx")).Network;
        AttainedAndProved(net, Inputs.MnistImages[0], InputBox.Uniform(net.InputSize, 0, 1));
    }

    [TestMethod]
    public void Cifar10Small_LayeredOptimaAreAttainedAndProvedAndBoundsHold()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "marabou-cifar10", "cifar10_small.onnx")).Network;
        var box = VnnLibReader.Read(TestData.File("vnncomp", "marabou-cifar10", "networkcifar10_small_index1189_eps0.012_target1_orig0.vnnlib")).Hull();
        AttainedAndProved(net, box.Center(), box);
        var bounds = LinearBounds.Compute(net, box);
        foreach (var x in Inputs.RandomBox(100, box.Lower, box.Upper, 21).Prepend(box.Lower).Prepend(box.Upper))
        {
            var z = net.PreActivations(x);
            for (int j = 0; j < z.Length; j++)
                Assert.IsTrue(bounds.Lower[j] - 1e-9 <= z[j] && z[j] <= bounds.Upper[j] + 1e-9, $"neuron {j}: {bounds.Lower[j]} <= {z[j]} <= {bounds.Upper[j]}");
        }
    }
}
