//! SVG charts, drawn with plotters: one chart per module, each with its
//! own input type and nothing of the pages (a page turns its model into a
//! chart's input; a chart shows only data that is in the page's JSON
//! twin). Floats appear here only as drawing coordinates. Text is escaped
//! by plotters' SVG backend; labels from chain data are additionally cut to
//! printable characters.

pub mod bars;
mod draw;
pub mod exposure;
pub mod frontier;
pub mod fund;
pub mod histogram;
pub mod observed;
pub mod timeline;
pub mod waterfall;

pub use bars::contagion_bad_debt_svg;
pub use exposure::contagion_exposure_svg;
pub use frontier::sweep_frontier_svg;
pub use fund::perp_fund_svg;
pub use histogram::stress_histogram_svg;
pub use observed::observed_svg;
pub use timeline::timeline_svg;
pub use waterfall::waterfall_svg;
