using Reassure.Formats.Mnist;

namespace Reassure.Tests.Formats;

[TestClass]
public sealed class MnistIdxTests
{
    [TestMethod]
    public void TestSetHasCanonicalCountsAndFloat32Pixels()
    {
        var images = Inputs.MnistImages;
        var labels = Inputs.MnistLabels;
        Assert.HasCount(10000, images);
        Assert.HasCount(784, images[0]);
        CollectionAssert.AreEqual(new[] { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 },
            Enumerable.Range(0, 10).Select(d => labels.Count(l => l == d)).ToArray());
        var values = images.Take(100).SelectMany(x => x).Distinct().ToArray();
        foreach (var v in values)
        {
            if ((double)(float)v != v) Assert.Fail($"pixel {v:R} is not a float32 value");
            Assert.IsTrue(v is >= 0 and <= 1);
        }
        Assert.AreEqual((double)(128 / 255f), values.OrderBy(v => Math.Abs(v - 128 / 255.0)).First());
        Assert.AreEqual(7, labels[0]);
    }

    [TestMethod]
    public void TrainLabelsHave60000Entries() =>
        Assert.HasCount(60000, MnistIdx.ReadLabels(TestData.File("mnist", "train-labels-idx1-ubyte.gz")));

    [TestMethod]
    public void WrongMagicIsRsr1030()
    {
        var e = Assert.ThrowsExactly<ReassureException>(() => MnistIdx.ReadImages(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz")));
        Assert.AreEqual(ErrorCodes.IdxMalformed, e.Code);
        StringAssert.Contains(e.Message, "2049");
        var path = Path.Combine(Path.GetTempPath(), $"idx-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, [0, 0, 8, 1, 0, 0, 0, 5, 1, 2]);
        try
        {
            Assert.AreEqual(ErrorCodes.IdxMalformed, Assert.ThrowsExactly<ReassureException>(() => MnistIdx.ReadLabels(path)).Code);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
