using CsCheck;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Properties;

/// <summary>
/// Mutated input files (CsCheck): whatever the bytes, the readers end in a <see cref="ReassureException"/> with an RSR code
/// or a valid result; no other exception escapes (a bare .NET exception would reach a user).
/// </summary>
[TestClass]
public sealed class FuzzProperties
{
    /// <summary>A list of edits to apply to a seed file: (kind, position, byte).</summary>
    private static readonly Gen<(int Kind, int Position, byte Value)[]> Edits =
        Gen.Select(Gen.Int[0, 4], Gen.Int[0, int.MaxValue], Gen.Byte).Array[1, 6];

    private static byte[] Mutate(byte[] seed, (int Kind, int Position, byte Value)[] edits)
    {
        var bytes = seed.ToList();
        foreach (var (kind, position, value) in edits)
        {
            if (bytes.Count == 0) break;
            int p = position % bytes.Count;
            switch (kind)
            {
                case 0: bytes[p] = value; break;                                  // overwrite
                case 1: bytes[p] ^= (byte)(1 << (value & 7)); break;              // flip a bit
                case 2: bytes.Insert(p, value); break;                            // insert
                case 3: bytes.RemoveAt(p); break;                                 // delete
                default: bytes.RemoveRange(p, bytes.Count - p); break;            // truncate
            }
        }
        return [.. bytes];
    }

    private static void OnlyCoded(Action read, Func<string> what)
    {
        try { read(); }
        catch (ReassureException e) { Assert.StartsWith("RSR", e.Code, what()); }
        catch (Exception e) { Assert.Fail($"{what()}: {e.GetType().Name} escaped: {e.Message}"); }
    }

    private static readonly Lazy<byte[]> RepairedSeed = new(() =>
    {
        var net = TinyNetworks.TwoFourThree();
        var source = OnnxImporter.Load(OnnxExporter.ToBytes(net), "seed.onnx");
        var buggy = TinyNetworks.RandomPoints(400, 3)
            .Where(x => Prediction.Of(source.Network.Evaluate(x)) != 0).Take(3)
            .Select((x, k) => new BuggyInput(x, new ClassificationSpecification(0, 0.01), $"p{k}")).ToList();
        var result = Repairer.Repair(source.Network, buggy, new RepairOptions { Domain = TinyNetworks.Box, MaxDegreeOfParallelism = 1, CheckFloat32 = false });
        return RepairedOnnxExporter.ToBytes(result.Network, source, result.Specs);
    });

    [TestMethod]
    public void MutatedOnnxBytes_OnlyCodedErrorsEscape()
    {
        var plain = OnnxExporter.ToBytes(TinyNetworks.TwoFourThree());
        var repaired = RepairedSeed.Value;
        Gen.Select(Gen.Bool, Edits).Sample((useRepaired, edits) =>
        {
            var bytes = Mutate(useRepaired ? repaired : plain, edits);
            OnlyCoded(() => OnnxImporter.Load(bytes, "fuzz.onnx"), () => $"OnnxImporter on {bytes.Length} bytes");
            OnlyCoded(() => RepairedOnnxImporter.TryLoad(bytes, "fuzz.onnx"), () => $"RepairedOnnxImporter on {bytes.Length} bytes");
        }, iter: PropertySettings.Iter(5000), threads: 1);
    }

    private const string CsvSeed = "x0,x1,label\n0.5,-0.25,1\n1e-3,2.5E+1,0\n-0,0.125,2\n";

    [TestMethod]
    public void MutatedRowsCsv_OnlyCodedErrorsEscape_AndNoRowIsDropped()
    {
        var seed = System.Text.Encoding.UTF8.GetBytes(CsvSeed);
        Edits.Sample(edits =>
        {
            var text = System.Text.Encoding.UTF8.GetString(Mutate(seed, edits));
            var lines = text.Split('\n');
            RowSet? rows = null;
            OnlyCoded(() => rows = RowsCsv.Parse(lines, 2, "fuzz.csv"), () => $"RowsCsv on {text}");
            if (rows is null) return;
            // A file that reads has every row finite and labelled; a data line is never dropped silently.
            Assert.IsTrue(rows.Inputs.All(r => r.Length == 2 && r.All(double.IsFinite)), text);
            // The header rule: a first line is a header only when no cell of it parses as a number (NaN and Infinity do).
            var nonEmpty = lines.Where(l => l.Trim().Length > 0).ToList();
            bool header = nonEmpty.Count > 0 && nonEmpty[0].Split(',').All(cell => !double.TryParse(cell.Trim(),
                System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
            Assert.AreEqual(nonEmpty.Count - (header ? 1 : 0), rows.Count, $"rows read from: {text}");
        }, iter: PropertySettings.Iter(4000), threads: 1);
    }
}
