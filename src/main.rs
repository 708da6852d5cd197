fn main() {
    converra_dashboard::start();
}
