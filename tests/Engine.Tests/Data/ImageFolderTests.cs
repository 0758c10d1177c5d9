using Engine.Data;

namespace Engine.Tests;

/// <summary>
/// <see cref="ImageFolder"/> and <see cref="ImageDataset"/> on folders written on the fly from the
/// embedded Fashion-MNIST subset: PNG, JPEG, BMP and GIF, of several sizes, grey and colour.
/// </summary>
public sealed class ImageFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-folder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Folder(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Classes_are_the_sorted_folder_names_and_each_is_split_in_proportion()
    {
        string root = Folder("flat");
        var names = TestImages.FashionFolder(root, classes: 3, perClass: 20);
        // noise a user's folder has: a hidden file, a macOS resource fork, a text file, a nested folder
        File.WriteAllText(Path.Combine(root, names[0], ".DS_Store"), "x");
        File.WriteAllText(Path.Combine(root, names[0], "._photo.jpg"), "not an image");
        File.WriteAllText(Path.Combine(root, names[1], "notes.txt"), "hello");
        Directory.CreateDirectory(Path.Combine(root, names[2], "more"));
        File.Copy(Directory.GetFiles(Path.Combine(root, names[2]))[0], Path.Combine(root, names[2], "more", "extra.png"));
        var folder = ImageFolder.Scan(root, new ImageFolderOptions { ValidationFraction = 0.2, TestFraction = 0.25, Seed = 3 });
        Assert.Equal(names.Order(StringComparer.Ordinal), folder.Classes);
        Assert.False(folder.HasSplitFolders);
        Assert.Equal([Path.Combine(root, names[1], "notes.txt")], folder.Ignored);
        int Count(IReadOnlyList<ImageFile> files, int c) => files.Count(f => f.Label == c);
        for (int c = 0; c < 3; c++)
        {
            int n = c == Array.IndexOf(folder.Classes.ToArray(), names[2]) ? 21 : 20;
            Assert.Equal(n, Count(folder.Train, c) + Count(folder.Validation, c) + Count(folder.Test, c));
            Assert.Equal((int)Math.Round(n * 0.25, MidpointRounding.AwayFromZero), Count(folder.Test, c));
            Assert.Equal((int)Math.Round(n * 0.2, MidpointRounding.AwayFromZero), Count(folder.Validation, c));
        }
        Assert.All(folder.Train.Concat(folder.Validation).Concat(folder.Test), f => Assert.StartsWith(Path.Combine(root, folder.Classes[f.Label]) + Path.DirectorySeparatorChar, f.Path));
        // the same seed gives the same split; another seed another
        var again = ImageFolder.Scan(root, new ImageFolderOptions { ValidationFraction = 0.2, TestFraction = 0.25, Seed = 3 });
        Assert.Equal(folder.Test, again.Test);
        Assert.NotEqual(folder.Test, ImageFolder.Scan(root, new ImageFolderOptions { ValidationFraction = 0.2, TestFraction = 0.25, Seed = 4 }).Test);
    }

    [Fact]
    public void Split_folders_are_used_and_a_missing_split_is_taken_from_train()
    {
        string root = Folder("split");
        TestImages.FashionFolder(root, classes: 2, perClass: 8, splits: ["train", "val"]);
        var folder = ImageFolder.Scan(root, new ImageFolderOptions { TestFraction = 0.25 });
        Assert.True(folder.HasSplitFolders);
        Assert.Equal(16, folder.Validation.Count);
        Assert.All(folder.Validation, f => Assert.Contains($"{Path.DirectorySeparatorChar}val{Path.DirectorySeparatorChar}", f.Path));
        Assert.Equal(4, folder.Test.Count);
        Assert.Equal(12, folder.Train.Count);
        Assert.All(folder.Train.Concat(folder.Test), f => Assert.Contains($"{Path.DirectorySeparatorChar}train{Path.DirectorySeparatorChar}", f.Path));
        // a class in val/ that train/ does not have
        Directory.CreateDirectory(Path.Combine(root, "val", "Zebra"));
        var e = Assert.Throws<DataException>(() => ImageFolder.Scan(root));
        Assert.Contains("class 'Zebra' has no training folder", e.Message);
    }

    [Fact]
    public void Folders_that_do_not_follow_the_layout_are_one_clear_error()
    {
        Assert.EndsWith("nowhere: no such folder", Assert.Throws<DataException>(() => ImageFolder.Scan(Folder("nowhere"))).Message);
        string loose = Folder("loose");
        Directory.CreateDirectory(loose);
        File.WriteAllBytes(Path.Combine(loose, "a.png"), TestImages.Encode("png", new byte[4], 2, 2, 1));
        var e = Assert.Throws<DataException>(() => ImageFolder.Scan(loose));
        Assert.Contains("no class folders: an image folder holds one subfolder per class", e.Message);
        Assert.Contains("the 1 images directly in", e.Message);
        string single = Folder("single");
        TestImages.FashionFolder(single, classes: 1, perClass: 3);
        Assert.Contains("only one class folder (T-shirt-top): classification needs at least 2 classes", Assert.Throws<DataException>(() => ImageFolder.Scan(single)).Message);
        string empty = Folder("empty");
        TestImages.FashionFolder(empty, classes: 2, perClass: 3);
        Directory.CreateDirectory(Path.Combine(empty, "Sandal"));
        File.WriteAllText(Path.Combine(empty, "Sandal", "readme.txt"), "no images here");
        e = Assert.Throws<DataException>(() => ImageFolder.Scan(empty));
        Assert.Equal($"{Path.Combine(empty, "Sandal")}: class 'Sandal' holds no images (.png, .jpg, .jpeg, .bmp, .gif); every class folder needs at least one (remove the folder to drop the class)", e.Message);
        Assert.Contains("validation fraction 0.6 and test fraction 0.5", Assert.Throws<DataException>(() => ImageFolder.Scan(empty, new ImageFolderOptions { ValidationFraction = 0.6, TestFraction = 0.5 })).Message);
    }

    [Fact]
    public void Images_decode_to_one_size_and_batches_hold_them_in_0_to_1()
    {
        string root = Folder("decode");
        TestImages.FashionFolder(root, classes: 2, perClass: 6);
        var folder = ImageFolder.Scan(root, new ImageFolderOptions { ValidationFraction = 0, TestFraction = 0 });
        int reports = 0;
        using var images = ImageDataset.Load(folder.Train, new ImageLoadOptions { Size = 20, Progress = new Count(() => Interlocked.Increment(ref reports)) });
        Assert.Equal(12, images.Count);
        Assert.Equal(12, reports);
        Assert.True(images.InMemory);
        using var batch = images.GetBatch([0, 5, 11]);
        Assert.Equal(new[] { 3, 3, 20, 20 }, batch.Inputs.Shape.ToArray());
        var values = batch.Inputs.ToArray<float>();
        Assert.All(values, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(new long[] { images.LabelAt(0), images.LabelAt(5), images.LabelAt(11) }, batch.Labels.ToArray<long>());
        // the same pixels through a temporary file when they exceed the memory budget
        using var onDisk = ImageDataset.Load(folder.Train, new ImageLoadOptions { Size = 20, MemoryBudget = 0, CacheDirectory = Folder("cache") });
        Assert.False(onDisk.InMemory);
        using var same = onDisk.GetBatch([0, 5, 11]);
        Assert.Equal(values, same.Inputs.ToArray<float>());
        Assert.Single(Directory.GetFiles(Folder("cache")));
        onDisk.Dispose();
        Assert.Empty(Directory.GetFiles(Folder("cache")));
        // grey: one channel
        using var grey = ImageDataset.Load(folder.Train, new ImageLoadOptions { Size = 16, Grey = true });
        using var g = grey.GetBatch([1]);
        Assert.Equal(new[] { 1, 1, 16, 16 }, g.Inputs.Shape.ToArray());
    }

    [Fact]
    public void A_corrupt_file_stops_the_load_naming_it_unless_bad_images_are_skipped()
    {
        string root = Folder("corrupt");
        var names = TestImages.FashionFolder(root, classes: 2, perClass: 5);
        string bad = Path.Combine(root, names[1], "broken.jpg"), cut = Path.Combine(root, names[0], "cut.png");
        File.WriteAllBytes(bad, [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00]);
        File.WriteAllBytes(cut, File.ReadAllBytes(Directory.GetFiles(Path.Combine(root, names[0]), "*.png")[0])[..60]);
        var folder = ImageFolder.Scan(root, new ImageFolderOptions { ValidationFraction = 0, TestFraction = 0 });
        // the first bad file in list order, whatever the threads did
        for (int run = 0; run < 3; run++)
        {
            var e = Assert.Throws<DataException>(() => ImageDataset.Load(folder.Train, new ImageLoadOptions { Size = 16 }));
            Assert.StartsWith(cut + ": truncated PNG", e.Message);
        }
        var warnings = new List<string>();
        using var images = ImageDataset.Load(folder.Train, new ImageLoadOptions { Size = 16, SkipBadImages = true, Warning = warnings.Add });
        Assert.Equal(10, images.Count);
        Assert.Equal([cut, bad], images.Skipped.Select(s => s.Path));
        Assert.Equal(2, warnings.Count);
        Assert.StartsWith($"skipped {cut}: truncated PNG", warnings[0]);
        Assert.StartsWith($"skipped {bad}: truncated JPEG", warnings[1]);
        Assert.DoesNotContain(images.Files, f => f.Path == bad || f.Path == cut);
        using var data = folder.Load(new ImageLoadOptions { Size = 16, SkipBadImages = true });
        Assert.Equal(10, data.Train.Count);
    }

    [Fact]
    public void Preprocessing_crops_reorders_and_normalises_as_recorded()
    {
        var prep = new ImagePreprocessing { Size = 8, ResizeTo = 10, Bgr = true, Mean = [0.1, 0.2, 0.3], Std = [0.5, 0.5, 0.5] };
        Assert.Equal(10, prep.StoredSize);
        using var scope = Tensor.Scope();
        // channel c of pixel (y, x) holds (c + 1) · 0.1 + y · 0.01
        var x = Tensor.FromArray(Enumerable.Range(0, 3 * 10 * 10).Select(i => (float)((i / 100 + 1) * 0.1 + i % 100 / 10 * 0.01)).ToArray(), 1, 3, 10, 10);
        var y = prep.Evaluation().Apply(x);
        Assert.Equal(new[] { 1, 3, 8, 8 }, y.Shape.ToArray());
        // centre crop starts at row 1; BGR puts the input's channel 2 first, normalised with the first mean
        Assert.Equal((0.3 + 0.01 - 0.1) / 0.5, y[0, 0, 0, 0], 5);
        Assert.Equal((0.1 + 0.01 - 0.3) / 0.5, y[0, 2, 0, 0], 5);
        Assert.Equal(new[] { 4, 3, 8, 8 }, prep.Training(seed: 1).Apply(Tensor.Rand(4, 3, 10, 10)).Shape.ToArray());
        Assert.Equal(73, ImagePreprocessing.ImageNet(64).StoredSize);
        Assert.Equal(256, ImagePreprocessing.ImageNet(224).StoredSize);
    }

    private sealed class Count(Action tick) : IProgress<int>
    {
        public void Report(int value) => tick();
    }
}
