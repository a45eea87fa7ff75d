//! The grid files shipped in `datasets/grids` parse and expand.

use shortfall_sweep::Grid;

#[test]
fn shipped_grids_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/grids");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let g = Grid::parse(&text, "t").unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(g.variants().len() >= 4, "{}", p.display());
        n += 1;
    }
    assert!(n >= 2);
}
