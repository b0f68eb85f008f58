//! Sources declared `partition KEY by UNIT` (issue 45, docs/sources.md "Time
//! partitions"): the examples' projects with every source split into hourly hive
//! folders give, bit for bit, the training sets of the unsplit files, while a spine
//! that starts late reads fewer partitions; a partition no spine time can see is never
//! read (a bad cell there fails nothing), locally and in S3; a file outside the
//! layout, a value not of the unit and an event in the wrong folder are errors naming
//! them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::cli_common::{same_rows, scratch, stderr};
use crate::cli_object_store::upload;
use crate::services::S3Server;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_path_buf()
}

fn featc(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_featc"));
    command
        .args(args)
        .current_dir(repo())
        .env_remove("AWS_ENDPOINT");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("featc runs")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", stderr(out));
    stderr(out)
}

/// The fields of one CSV line, quotes kept (enough to find a column's cell).
fn fields(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&line[start..]);
    out
}

/// Splits the CSV at `file` into `folder/hour=YYYY-MM-DDTHH/part-0.csv` by the hour
/// of its `time` column (RFC 3339 in UTC, `...Z`); returns the number of partitions.
fn split_by_hour(file: &Path, time: &str, folder: &Path) -> usize {
    let text = std::fs::read_to_string(file).expect("csv");
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let column = fields(header)
        .iter()
        .position(|f| *f == time)
        .expect("the time column");
    let mut hours: BTreeMap<String, String> = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let cell = fields(line)[column];
        assert!(
            cell.len() >= 20 && cell.ends_with('Z') && cell.as_bytes()[10] == b'T',
            "a UTC time: {cell}"
        );
        let part = hours
            .entry(cell[..13].to_string())
            .or_insert_with(|| format!("{header}\n"));
        part.push_str(line);
        part.push('\n');
    }
    for (hour, rows) in &hours {
        let dir = folder.join(format!("hour={hour}"));
        std::fs::create_dir_all(&dir).expect("partition folder");
        std::fs::write(dir.join("part-0.csv"), rows).expect("partition");
    }
    hours.len()
}

/// A copy of example `name` in `dir` whose every source is split by hour and
/// declared `partition hour by hour`; its spine is copied along.
fn partitioned_example(name: &str, dir: &Path) -> PathBuf {
    let example = repo().join("examples").join(name);
    let copy = dir.join(name);
    std::fs::create_dir_all(copy.join("data")).expect("copy");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&example).expect("example") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "feat") {
            let text = std::fs::read_to_string(&path).expect("feat");
            files.push(featc::SourceFile {
                name: path.to_string_lossy().into_owned(),
                text,
            });
        }
    }
    let project = featc::compile(&files).expect("the example compiles");
    for file in &mut files {
        for source in &project.sources {
            let location = source.location.as_deref().expect("a file");
            let stem = Path::new(location).file_stem().expect("a stem");
            let stem = stem.to_string_lossy();
            let clause = format!("file \"data/{stem}.csv\"");
            if file.text.contains(&clause) {
                assert_eq!(file.text.matches(&clause).count(), 1);
                let partitions = split_by_hour(
                    Path::new(location),
                    &source.time_column,
                    &copy.join("data").join(&*stem),
                );
                assert!(partitions > 10, "{stem}: {partitions} hours");
                file.text = file.text.replace(
                    &clause,
                    &format!("file \"data/{stem}/\"\n    partition hour by hour"),
                );
            }
        }
        let name = Path::new(&file.name).file_name().expect("a name");
        std::fs::write(copy.join(name), &file.text).expect("feat copy");
    }
    std::fs::copy(example.join("data/spine.csv"), copy.join("data/spine.csv")).expect("spine");
    copy
}

/// The rows of the CSV spine at `spine` from its median time on (its time column is
/// `ts`), written to `out`.
fn later_half(spine: &Path, out: &Path) {
    let text = std::fs::read_to_string(spine).expect("spine");
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let column = fields(header).iter().position(|f| *f == "ts").expect("ts");
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let mut times: Vec<&str> = rows.iter().map(|r| fields(r)[column]).collect();
    times.sort_unstable();
    let median = times[times.len() / 2];
    let mut kept = format!("{header}\n");
    for row in rows.iter().filter(|r| fields(r)[column] >= median) {
        kept.push_str(row);
        kept.push('\n');
    }
    std::fs::write(out, kept).expect("later spine");
}

/// `(read, partitions)` of each source's summary line in a training set's stderr.
fn partitions_read(stderr: &str) -> Vec<(usize, usize)> {
    stderr
        .lines()
        .filter(|l| l.contains(" partitions of "))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "of").expect("of");
            (
                words[at - 1].parse().expect("read"),
                words[at + 2].parse().expect("partitions"),
            )
        })
        .collect()
}

#[test]
fn the_examples_split_by_hour_give_the_same_training_sets_reading_fewer_partitions() {
    let dir = scratch("cli_time_partitions/examples");
    // Every example reads some source whole (a lifetime feature reads all history),
    // but not every source of every example.
    let mut pruned = Vec::new();
    for name in ["checkout", "delivery", "fraud"] {
        let copy = partitioned_example(name, &dir);
        let example = repo().join("examples").join(name);
        let later = dir.join(format!("{name}_later_spine.csv"));
        later_half(&example.join("data/spine.csv"), &later);
        for (label, spine) in [("whole", example.join("data/spine.csv")), ("later", later)] {
            let spine = spine.to_string_lossy().into_owned();
            let expected = dir.join(format!("{name}_{label}_files.parquet"));
            let actual = dir.join(format!("{name}_{label}_partitions.parquet"));
            for (project, out) in [(&example, &expected), (&copy, &actual)] {
                let (project, out) = (project.to_string_lossy(), out.to_string_lossy());
                let said = ok(&featc(
                    &["training-set", &project, "--spine", &spine, "--out", &out],
                    &[],
                ));
                let counts = partitions_read(&said);
                if project == copy.to_string_lossy() {
                    assert!(!counts.is_empty(), "{name}: no partition count in {said}");
                    if counts.iter().any(|(read, all)| read < all) {
                        pruned.push(format!("{name} ({label} spine): {counts:?}"));
                    }
                } else {
                    assert!(counts.is_empty(), "{said}");
                }
            }
            same_rows(&actual, &expected);
        }
    }
    assert!(pruned.len() >= 2, "partitions skipped: {pruned:?}");
}

/// Ten days of clicks, three users a day, in `day=YYYY-MM-DD/part-0.csv` folders, and
/// a project over them declared `partition day by day` (`file` is `location`).
fn clicks(dir: &Path, location: &str) -> PathBuf {
    let data = dir.join("clicks");
    for day in 1..=10 {
        let folder = data.join(format!("day=2024-03-{day:02}"));
        std::fs::create_dir_all(&folder).expect("partition");
        let mut rows = String::from("ts,user,amount\n");
        for hour in [0, 9, 23] {
            for user in 0..3 {
                let amount = day * 100 + hour + user;
                rows.push_str(&format!(
                    "2024-03-{day:02}T{hour:02}:59:59Z,{user},{amount}.5\n"
                ));
            }
        }
        std::fs::write(folder.join("part-0.csv"), rows).expect("rows");
    }
    let project = dir.join("clicks.feat");
    let text = format!(
        "source clicks {{\n    time ts\n    columns {{ user: int64  amount: float64 }}\n    file \"{location}\"\n    partition day by day\n}}\nentity user {{ key user: int64 }}\nview by_user from clicks by user {{\n    feature spent_1d = sum(amount) over 1d\n    feature clicks_2d = count(*) over 2d\n}}\n"
    );
    std::fs::write(&project, text).expect("project");
    std::fs::write(
        dir.join("late.csv"),
        "user,ts\n0,2024-03-09T12:00:00Z\n1,2024-03-10T00:00:00Z\n2,2024-03-10T23:59:59Z\n",
    )
    .expect("spine");
    std::fs::write(dir.join("early.csv"), "user,ts\n0,2024-03-02T12:00:00Z\n").expect("spine");
    project
}

/// A cell that is not a float64, in the partition of 2024-03-02.
const BAD_CELL: &str = "ts,user,amount\n2024-03-02T01:00:00Z,0,abc\n";

#[test]
fn a_partition_no_spine_time_can_see_is_never_read() {
    let dir = scratch("cli_time_partitions/pruned");
    let project = clicks(&dir, "clicks/");
    let project = project.to_string_lossy().into_owned();
    let (late, early) = (dir.join("late.csv"), dir.join("early.csv"));
    let (late, early) = (late.to_string_lossy(), early.to_string_lossy());
    let whole = dir.join("whole.parquet");
    let said = ok(&featc(
        &[
            "training-set",
            &project,
            "--spine",
            &late,
            "--out",
            &whole.to_string_lossy(),
        ],
        &[],
    ));
    // From 2024-03-09T12 minus the 2-day window: the 7th, 8th, 9th and 10th.
    assert_eq!(partitions_read(&said), vec![(4, 10)], "{said}");
    // The same project without the clause reads every file, to the same values.
    let plain = dir.join("plain.feat");
    let text = std::fs::read_to_string(&project).expect("project");
    std::fs::write(&plain, text.replace("    partition day by day\n", "")).expect("plain");
    let expected = dir.join("expected.parquet");
    ok(&featc(
        &[
            "training-set",
            &plain.to_string_lossy(),
            "--spine",
            &late,
            "--out",
            &expected.to_string_lossy(),
        ],
        &[],
    ));
    same_rows(&whole, &expected);

    std::fs::write(dir.join("clicks/day=2024-03-02/part-1.csv"), BAD_CELL).expect("bad");
    let out = dir.join("out.parquet");
    let out = out.to_string_lossy();
    ok(&featc(
        &["training-set", &project, "--spine", &late, "--out", &out],
        &[],
    ));
    same_rows(Path::new(&*out), &expected);
    let fails_naming = |spine: &str, cell: &str| {
        let failed = featc(
            &["training-set", &project, "--spine", spine, "--out", &out],
            &[],
        );
        let said = stderr(&failed);
        assert_eq!(failed.status.code(), Some(2), "{said}");
        let expected = format!("{cell}:2, column `amount`: cannot read 'abc' as float64");
        assert!(said.contains(&expected), "{said}");
    };
    // A spine that sees the partition reads the bad cell.
    fails_naming(&early, "day=2024-03-02/part-1.csv");
    // A bad cell in a partition the late spine reads is the one named, not the
    // skipped partition's, though that file comes first.
    let read_bad = BAD_CELL.replace("2024-03-02T01", "2024-03-09T01");
    std::fs::write(dir.join("clicks/day=2024-03-09/part-1.csv"), read_bad).expect("bad");
    fails_naming(&late, "day=2024-03-09/part-1.csv");
}

#[test]
fn partitions_in_s3_are_pruned_alike() {
    let dir = scratch("cli_time_partitions/s3");
    let server = S3Server::start(&dir.join("server"));
    server.create_bucket("history");
    let local = clicks(&dir, "s3://history/clicks/");
    std::fs::write(dir.join("clicks/day=2024-03-02/part-1.csv"), BAD_CELL).expect("bad");
    for entry in walk(&dir.join("clicks")) {
        let key = entry
            .strip_prefix(&dir)
            .expect("under dir")
            .to_string_lossy()
            .into_owned();
        upload(&server, &format!("s3://history/{key}"), &entry);
    }
    let env = [
        ("AWS_ENDPOINT_URL", server.endpoint()),
        ("AWS_ACCESS_KEY_ID", server.access_key.clone()),
        ("AWS_SECRET_ACCESS_KEY", server.secret_key.clone()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    let out = dir.join("out.parquet");
    let late = dir.join("late.csv");
    let said = ok(&featc(
        &[
            "training-set",
            &local.to_string_lossy(),
            "--spine",
            &late.to_string_lossy(),
            "--out",
            &out.to_string_lossy(),
        ],
        &env,
    ));
    assert_eq!(partitions_read(&said), vec![(4, 10)], "{said}");
    assert!(said.contains("of s3://history/clicks/ read"), "{said}");
    // The same folder read locally, the bad file left out.
    std::fs::remove_file(dir.join("clicks/day=2024-03-02/part-1.csv")).expect("rm");
    let text = std::fs::read_to_string(&local).expect("project");
    let local_project = dir.join("local.feat");
    std::fs::write(
        &local_project,
        text.replace("s3://history/clicks/", "clicks/"),
    )
    .expect("local");
    let expected = dir.join("expected.parquet");
    ok(&featc(
        &[
            "training-set",
            &local_project.to_string_lossy(),
            "--spine",
            &late.to_string_lossy(),
            "--out",
            &expected.to_string_lossy(),
        ],
        &[],
    ));
    same_rows(&out, &expected);
}

/// The files under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn files_outside_the_layout_and_events_in_the_wrong_folder_are_errors_naming_them() {
    let dir = scratch("cli_time_partitions/errors");
    let project = clicks(&dir, "clicks/");
    let project = project.to_string_lossy().into_owned();
    let late = dir.join("late.csv");
    let late = late.to_string_lossy();
    let out = dir.join("out.parquet");
    let out = out.to_string_lossy();
    let clicks = dir.join("clicks");
    let fails_with = |expected: &str| {
        let failed = featc(
            &["training-set", &project, "--spine", &late, "--out", &out],
            &[],
        );
        assert_eq!(failed.status.code(), Some(2), "{}", stderr(&failed));
        assert!(stderr(&failed).contains(expected), "{}", stderr(&failed));
    };
    let one_row = "ts,user,amount\n2024-03-05T00:00:00Z,0,1.0\n";

    std::fs::write(clicks.join("stray.csv"), one_row).expect("stray");
    fails_with(&format!(
        "error: source `clicks`: `{}`: is not in a partition folder `day=VALUE/` (the source is declared `partition day by day`)",
        clicks.join("stray.csv").display()
    ));
    std::fs::remove_file(clicks.join("stray.csv")).expect("rm");

    std::fs::create_dir_all(clicks.join("day=2024-3-9")).expect("folder");
    std::fs::write(clicks.join("day=2024-3-9/part-0.csv"), one_row).expect("file");
    fails_with(&format!(
        "error: source `clicks`: `{}`: `day=2024-3-9` is not a partition by day: its value must be written YYYY-MM-DD",
        clicks.join("day=2024-3-9/part-0.csv").display()
    ));
    std::fs::remove_dir_all(clicks.join("day=2024-3-9")).expect("rm");

    // An event of the 5th in the folder of the 9th, which the late spine reads.
    std::fs::write(clicks.join("day=2024-03-09/moved.csv"), one_row).expect("moved");
    fails_with("error: source `clicks`: the event at 2024-03-05T00:00:00Z is in partition folder `day=2024-03-09`, which holds the events from 2024-03-09T00:00:00Z to 2024-03-10T00:00:00Z (excluded) (`partition day by day`)");
}
