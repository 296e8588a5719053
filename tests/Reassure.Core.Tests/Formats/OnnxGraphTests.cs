using Google.Protobuf;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using static Reassure.Tests.Formats.ModelBuilder;

namespace Reassure.Tests.Formats;

/// <summary>Operator coverage on small built graphs (checked against ONNX Runtime) and the coded errors.</summary>
[TestClass]
public sealed class OnnxGraphTests
{
    /// <summary>
    /// Normalisation, shape operators, Gemm with alpha/beta/transB = 0, Constant node, MatMul + Add, affine + affine and
    /// constant - data, all folded into two layers.
    /// </summary>
    [TestMethod]
    public void MixedAffineOperatorsFoldIntoTwoLayersAndMatchOnnxRuntime()
    {
        var rng = new Random(5);
        double[] R(int n) => Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble() * 2 - 1, 3)).ToArray();
        var std = new TensorProto { DataType = 1, FloatData = { 0.5f } };
        var bytes = new ModelBuilder("x", [2, 3], "y")
            .Float("mean", [2, 3], 0.1, 0.2, 0.3, -0.1, -0.2, -0.3)
            .Float("two", [], 2.0)
            .Float("W1", [6, 4], R(24)).Float("b1", [4], R(4))
            .Int64("axes", 2).Int64("shape", 0, 4)
            .Float("W2", [4, 3], R(12)).Float("b2", [1, 3], R(3)).Float("c", [3], 1, 2, 3)
            .Node("Constant", "std_const", [], "std", ModelBuilder.Tensor("value", std))
            .Node("Sub", "centre", ["x", "mean"], "x1")
            .Node("Div", "scale", ["x1", "std"], "x2")
            .Node("Mul", "double", ["two", "x2"], "x3")
            .Node("Flatten", "flat", ["x3"], "x4", Int("axis", 1))
            .Node("Gemm", "fc1", ["x4", "W1", "b1"], "z1", Flt("alpha", 0.5f), Flt("beta", 2f), Int("transB", 0))
            .Node("Identity", "id", ["z1"], "z1b")
            .Node("Relu", "relu1", ["z1b"], "a1")
            .Node("Unsqueeze", "unsq", ["a1", "axes"], "a2")
            .Node("Squeeze", "sq", ["a2", "axes"], "a3")
            .Node("Reshape", "resh", ["a3", "shape"], "a4")
            .Node("MatMul", "fc2", ["a4", "W2"], "m2")
            .Node("Add", "bias2", ["m2", "b2"], "z2")
            .Node("Add", "twice", ["z2", "z2"], "z3")
            .Node("Sub", "flip", ["c", "z3"], "y")
            .Bytes();
        var model = OnnxImporter.Load(bytes, "mixed.onnx");
        var net = model.Network;
        Assert.AreEqual("N,2,3", model.InputShape);
        CollectionAssert.AreEqual(new[] { 4, 3 }, net.Layers.Select(l => l.Outputs).ToArray());
        Assert.AreEqual(6, net.InputSize);
        Assert.AreEqual(new Reassure.Networks.LayerNames("W1", "b1", "z1b", "a1"), net.Layers[0].Names);
        Assert.AreEqual("W2", net.Layers[1].Names.Weight);
        Assert.AreEqual("b2", net.Layers[1].Names.Bias);
        Assert.AreEqual("y", net.Layers[1].Names.PreActivation);
        var inputs = Inputs.RandomBox(50, Enumerable.Repeat(-2.0, 6).ToArray(), Enumerable.Repeat(2.0, 6).ToArray(), 3);
        var ort = OrtRunner.Run(bytes, inputs);
        var core = net.EvaluateBatch(inputs);
        for (int r = 0; r < inputs.Length; r++)
            for (int j = 0; j < 3; j++)
                Assert.AreEqual(ort[r][j], core[r][j], 1e-5, $"row {r} output {j}");
    }

    [TestMethod]
    public void MissingFileIsRsr1001()
    {
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid() + ".onnx")));
        Assert.AreEqual(ErrorCodes.FileUnreadable, e.Code);
    }

    [TestMethod]
    public void TruncatedBytesAreRsr1002WithFileName()
    {
        var bytes = File.ReadAllBytes(TestData.File("models", "reassure-mnist-256x256.onnx"));
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes[..(bytes.Length / 2)], "half.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxMalformed, e.Code);
        StringAssert.Contains(e.Message, "half.onnx");
        Assert.IsInstanceOfType<InvalidProtocolBufferException>(e.InnerException);
    }

    [TestMethod]
    public void SigmoidIsRsr1003NamingOpNodeAndFile()
    {
        var bytes = new ModelBuilder("x", [2], "y")
            .Float("W", [3, 2], 1, 2, 3, 4, 5, 6).Float("b", [3], 0, 0, 0)
            .Node("Gemm", "fc", ["x", "W", "b"], "z", Int("transB", 1))
            .Node("Sigmoid", "squash_7", ["z"], "y")
            .Bytes();
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes, "sigmoid.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedOperator, e.Code);
        StringAssert.Contains(e.Message, "Sigmoid");
        StringAssert.Contains(e.Message, "squash_7");
        StringAssert.Contains(e.Message, "sigmoid.onnx");
    }

    [TestMethod]
    public void TransAIsRsr1004()
    {
        var bytes = new ModelBuilder("x", [2], "y")
            .Float("W", [3, 2], 1, 2, 3, 4, 5, 6)
            .Node("Gemm", "fc", ["x", "W"], "y", Int("transA", 1), Int("transB", 1))
            .Bytes();
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes, "ta.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedGraph, e.Code);
        StringAssert.Contains(e.Message, "transA");
    }

    [TestMethod]
    public void ProductOfTwoDataTensorsIsRsr1004()
    {
        var bytes = new ModelBuilder("x", [2], "y").Node("Mul", "square", ["x", "x"], "y").Bytes();
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes, "sq.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedGraph, e.Code);
        StringAssert.Contains(e.Message, "square");
    }

    [TestMethod]
    public void SkipConnectionAcrossReluIsRsr1004()
    {
        var bytes = new ModelBuilder("x", [2], "y")
            .Float("W", [2, 2], 1, 2, 3, 4)
            .Node("Gemm", "fc", ["x", "W"], "z", Int("transB", 1))
            .Node("Relu", "r", ["z"], "a")
            .Node("Add", "skip", ["a", "x"], "y")
            .Bytes();
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes, "skip.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedGraph, e.Code);
        StringAssert.Contains(e.Message, "skip");
    }

    [TestMethod]
    public void WrongGemmShapeIsRsr1004()
    {
        var bytes = new ModelBuilder("x", [2], "y")
            .Float("W", [3, 5], new double[15])
            .Node("Gemm", "fc", ["x", "W"], "y", Int("transB", 1))
            .Bytes();
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes, "shape.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxUnsupportedGraph, e.Code);
    }

    [TestMethod]
    public void Float16TensorIsRsr1005()
    {
        var t = new TensorProto { Name = "W", DataType = 10, RawData = ByteString.CopyFrom(new byte[12]) };
        t.Dims.Add([3, 2]);
        var bytes = new ModelBuilder("x", [2], "y").Tensor(t).Node("Gemm", "fc", ["x", "W"], "y", Int("transB", 1)).Bytes();
        var e = Assert.ThrowsExactly<ReassureException>(() => OnnxImporter.Load(bytes, "f16.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxBadTensor, e.Code);
        StringAssert.Contains(e.Message, "'W'");
    }

    [TestMethod]
    public void ExternalDataAndMissingDataAreRsr1005()
    {
        var ext = new TensorProto { Name = "W", DataType = 1, DataLocation = 1 };
        ext.Dims.Add([3, 2]);
        var e1 = Assert.ThrowsExactly<ReassureException>(() =>
            OnnxImporter.Load(new ModelBuilder("x", [2], "y").Tensor(ext).Node("Gemm", "fc", ["x", "W"], "y", Int("transB", 1)).Bytes(), "ext.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxBadTensor, e1.Code);
        var empty = new TensorProto { Name = "W", DataType = 1 };
        empty.Dims.Add([3, 2]);
        var e2 = Assert.ThrowsExactly<ReassureException>(() =>
            OnnxImporter.Load(new ModelBuilder("x", [2], "y").Tensor(empty).Node("Gemm", "fc", ["x", "W"], "y", Int("transB", 1)).Bytes(), "empty.onnx"));
        Assert.AreEqual(ErrorCodes.OnnxBadTensor, e2.Code);
    }
}
