#:project ../../../src/Reassure.Core/Reassure.Core.csproj
// Makes the BuildGate sample's model and rows (run from this folder: `dotnet run make-data.cs`).
// A small ReLU classifier of points in the unit square (2 inputs, 12 + 12 hidden, 3 classes) with fixed random
// weights, exported to ONNX; 300 regression rows labelled by the model's own argmax except 6 noisy labels (so that
// the original accuracy is 98 %); 5 buggy rows the model really misclassifies, each in a linear region that holds no
// regression row, labelled with the next class. It checks that the repair fixes them and keeps the accuracy.
using System.Globalization;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Specifications;

var random = new Random(20221);
// Support sharpness: the sample project sets ReassureGamma=100. At the engine default (1) the supports of this
// unit-square model reach far beyond their regions and the accuracy falls from 294/300 to 248/300.
double gamma = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 100;
DenseLayer Layer(int inputs, int outputs, bool relu)
{
    var w = new double[inputs * outputs];
    var b = new double[outputs];
    double scale = Math.Sqrt(2.0 / inputs);
    for (int i = 0; i < w.Length; i++) w[i] = Math.Round((random.NextDouble() * 2 - 1) * 1.7 * scale, 4);
    for (int i = 0; i < b.Length; i++) b[i] = Math.Round((random.NextDouble() * 2 - 1) * 0.5, 4);
    return new DenseLayer(inputs, outputs, w, b, relu);
}
var network = new Network([Layer(2, 12, true), Layer(12, 12, true), Layer(12, 3, false)]);
// The ONNX file holds float32 weights; work with the network read back from it so that rows and model agree.
var onnx = OnnxExporter.ToBytes(network);
network = OnnxImporter.Load(onnx, "model.onnx").Network;

int ArgMax(double[] y) { int k = 0; for (int i = 1; i < y.Length; i++) if (y[i] > y[k]) k = i; return k; }
double[] Point() => [Math.Round(random.NextDouble(), 4), Math.Round(random.NextDouble(), 4)];

var regression = Enumerable.Range(0, 300).Select(_ => Point()).ToArray();
var regressionLabels = regression.Select(x => ArgMax(network.Evaluate(x))).ToArray();
foreach (var r in new[] { 17, 58, 101, 150, 222, 281 }) regressionLabels[r] = (regressionLabels[r] + 2) % 3;
var taken = regression.Select(x => network.Pattern(x).Hash()).ToHashSet();

var buggy = new List<double[]>();
while (buggy.Count < 5)
{
    var x = Point();
    if (taken.Add(network.Pattern(x).Hash())) buggy.Add(x);
}
var buggyLabels = buggy.Select(x => (ArgMax(network.Evaluate(x)) + 1) % 3).ToArray();

var result = Repairer.Repair(network, buggy.Select((x, i) => new BuggyInput(x, new ClassificationSpecification(buggyLabels[i]), $"row {i + 1}")).ToList(),
    new RepairOptions { Gamma = gamma, Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance });
int before = regression.Select((x, i) => ArgMax(network.Evaluate(x)) == regressionLabels[i] ? 1 : 0).Sum();
int after = regression.Select((x, i) => ArgMax(result.Network.Evaluate(x)) == regressionLabels[i] ? 1 : 0).Sum();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"fixed {result.FixedCount}/{buggy.Count} with {result.Patches.Count} patches in {result.Timings.Total.TotalSeconds:0.00} s; accuracy {before}/300 -> {after}/300"));
if (!result.AllFixed || after < before) { Console.Error.WriteLine("the sample would not pass its gate; change the seed"); return 1; }

File.WriteAllBytes("../model/classifier.onnx", onnx);
RowsCsv.Write("../model/buggy.csv", new RowSet(buggy.ToArray(), buggyLabels, "buggy.csv"));
RowsCsv.Write("../model/regression.csv", new RowSet(regression, regressionLabels, "regression.csv"));
return 0;
