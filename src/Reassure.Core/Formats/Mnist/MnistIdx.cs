using System.Buffers.Binary;
using System.IO.Compression;

namespace Reassure.Formats.Mnist;

/// <summary>
/// Reads MNIST idx files, gzipped (detected by the gzip magic 1f 8b) or plain. Big-endian header: int32 magic
/// (2051 images, 2049 labels), int32 count, and for images int32 rows and int32 cols; then uint8 data, images
/// row-major. Pixels become (double)(p / 255f): the float32 value the models were trained on (torchvision ToTensor),
/// held exactly in double. Errors: RSR1001 missing file, RSR1030 format.
/// </summary>
public static class MnistIdx
{
    /// <summary>Magic number of an idx3 image file.</summary>
    public const int ImagesMagic = 2051;

    /// <summary>Magic number of an idx1 label file.</summary>
    public const int LabelsMagic = 2049;

    /// <summary>The images, <c>[count][rows * cols]</c>, values (double)(pixel / 255f) in [0, 1]; at most <paramref name="limit"/>.</summary>
    public static double[][] ReadImages(string path, int limit = int.MaxValue)
    {
        var bytes = Decompressed(path);
        string source = Path.GetFileName(path);
        Header(bytes, 16, ImagesMagic, source);
        int count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(12));
        if (count < 0 || rows < 1 || cols < 1)
            throw new ReassureException(ErrorCodes.IdxMalformed, $"header says {count} images of {rows}x{cols}; expected positive sizes", source);
        long size = (long)rows * cols;
        if (bytes.Length != 16 + count * size)
            throw new ReassureException(ErrorCodes.IdxMalformed, $"{bytes.Length} bytes; a header of {count} images of {rows}x{cols} needs {16 + count * size}", source);
        int n = Math.Min(count, limit);
        var images = new double[n][];
        for (int i = 0; i < n; i++)
        {
            var img = new double[size];
            var src = bytes.AsSpan((int)(16 + i * size), (int)size);
            for (int p = 0; p < size; p++) img[p] = (double)(src[p] / 255f);
            images[i] = img;
        }
        return images;
    }

    /// <summary>The labels, <c>[count]</c>; at most <paramref name="limit"/>.</summary>
    public static int[] ReadLabels(string path, int limit = int.MaxValue)
    {
        var bytes = Decompressed(path);
        string source = Path.GetFileName(path);
        Header(bytes, 8, LabelsMagic, source);
        int count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        if (count < 0 || bytes.Length != 8L + count)
            throw new ReassureException(ErrorCodes.IdxMalformed, $"{bytes.Length} bytes; a header of {count} labels needs {8L + count}", source);
        return bytes.AsSpan(8, Math.Min(count, limit)).ToArray().Select(b => (int)b).ToArray();
    }

    private static void Header(byte[] bytes, int size, int magic, string source)
    {
        if (bytes.Length < size)
            throw new ReassureException(ErrorCodes.IdxMalformed, $"only {bytes.Length} bytes; expected a header of {size} bytes", source);
        int m = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (m != magic)
            throw new ReassureException(ErrorCodes.IdxMalformed, $"magic number {m}; expected {magic} ({(magic == ImagesMagic ? "idx3 images" : "idx1 labels")})", source);
    }

    private static byte[] Decompressed(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReassureException(ErrorCodes.FileUnreadable, $"cannot read the idx file: {e.Message}", path, e);
        }
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        try
        {
            using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var ms = new MemoryStream();
            gz.CopyTo(ms);
            return ms.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new ReassureException(ErrorCodes.IdxMalformed, $"invalid gzip data: {e.Message}", Path.GetFileName(path), e);
        }
    }
}
